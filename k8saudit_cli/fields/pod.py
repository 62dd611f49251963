"""Extractors for the pod parts of a request: container lists and volumes.

``containers``, ``initContainers`` and ``ephemeralContainers`` share one set
of sub-fields so a privileged init container is seen by the same rules as a
privileged container. An optional index argument picks one element of the
list; an out-of-range index, or a list that is absent or not an array, means
"not available". An element lacking the wanted value is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import fixed, index_binder
from k8saudit_cli.fields.base import (
    MISSING,
    ArgKind,
    ArgSpec,
    Extractor,
    FieldDef,
    FieldType,
    Value,
)
from k8saudit_cli.fields.jsonval import ListGetter, getter, list_getter, text, texts

Make = Callable[[int | None], Extractor]

INDEX_ARG = ArgSpec(ArgKind.INDEX, required=False)


def spec_list(key: str) -> ListGetter:
    """Reader of ``requestObject.spec.<key>`` (a container list or ``volumes``)."""
    return list_getter(("requestObject", "spec", key))


_SC = "securityContext"
_containers = spec_list("containers")
_volumes = spec_list("volumes")
_ports = getter(("ports",))
_image = getter(("image",))
_privileged = getter((_SC, "privileged"))
_capabilities_added = getter((_SC, "capabilities", "add"))
_host_path = getter(("hostPath", "path"))


def repository(image: str) -> str:
    """The image without ``@digest`` and ``:tag``; a ``:`` before the last ``/`` is a port."""
    image = image.split("@", 1)[0]
    colon = image.rfind(":")
    return image[:colon] if colon > image.rfind("/") else image


# ----------------------------------------------------------- per-element values


def leaves(key: str, path: tuple[str, ...]) -> Make:
    """Each element's value at ``path``, as text; elements without it are skipped."""
    get = getter(path)
    items_of = spec_list(key)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            if items is None:
                return MISSING
            out = []
            for item in items:
                v = get(item)
                if v is not MISSING:
                    out.append(v if v.__class__ is str else text(v))
            return out

        return extract

    return make


def repositories(key: str) -> Make:
    images = leaves(key, ("image",))

    def make(idx: int | None) -> Extractor:
        inner = images(idx)

        def extract(ev: AuditEvent) -> Value:
            found = inner(ev)
            return [repository(i) for i in found] if isinstance(found, list) else found

        return extract

    return make


def joined(key: str, word_list: str) -> Make:
    """Each container's ``command``/``args`` array joined by spaces.

    A value that is not an array of strings makes the field unavailable
    (upstream fails the extraction); no value at all is not available either.
    """
    items_of = spec_list(key)
    get_words = getter((word_list,))

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            if items is None:
                return MISSING
            out = []
            for item in items:
                words = get_words(item)
                if words is MISSING:
                    continue
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    return MISSING
                out.append(" ".join(words))
            return out or MISSING

        return extract

    return make


def host_ports(key: str) -> Make:
    """Per port: ``hostPort``, else ``containerPort`` (equal to it under hostNetwork)."""
    items_of = spec_list(key)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            if items is None:
                return MISSING
            out: list[str] = []
            for item in items:
                ports = _ports(item)
                if ports is MISSING:
                    continue
                if not isinstance(ports, list):
                    return MISSING
                for port in ports:
                    v = _port(port)
                    if v is not MISSING:
                        out.append(v)
            return out

        return extract

    return make


def _port(port: Any) -> Any:
    if not isinstance(port, dict):
        return MISSING
    v = port.get("hostPort", MISSING)
    if v is MISSING:
        v = port.get("containerPort", MISSING)
    return v if v is MISSING else text(v)


def effective(key: str, setting: str) -> Make:
    """The id a container starts with: its ``securityContext.<setting>``, else the pod's
    ``spec.securityContext.<setting>``, else ``0``; never skips a container."""
    items_of = spec_list(key)
    get_pod = getter(("requestObject", "spec", _SC, setting))
    get_own = getter((_SC, setting))

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            if items is None:
                return MISSING
            pod = get_pod(ev.ka)
            default = "0" if pod is MISSING else text(pod)
            out = []
            for item in items:
                v = get_own(item)
                out.append(default if v is MISSING else text(v))
            return out

        return extract

    return make


def capabilities(key: str) -> Make:
    """Every capability added, one element each (upstream gives one JSON array text
    per container, which ``intersects (SYS_ADMIN)`` can never match)."""
    items_of = spec_list(key)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            if items is None:
                return MISSING
            out: list[str] = []
            for item in items:
                v = _capabilities_added(item)
                if isinstance(v, list):
                    out.extend(texts(v))
                elif v is not MISSING:
                    out.append(text(v))
            return out

        return extract

    return make


def volume_types(idx: int | None) -> Extractor:
    """For each volume, its keys other than ``name`` (the volume source kinds)."""

    def extract(ev: AuditEvent) -> Value:
        items = _volumes(ev.ka, idx)
        if items is None:
            return MISSING
        return [k for v in items if isinstance(v, dict) for k in v if k != "name"]

    return extract


# ------------------------------------------------------------ container fields

#: sub-field -> (builder, description template); ``{what}`` names the list.
CONTAINER_SUBFIELDS: dict[str, tuple[Callable[[str], Make], str]] = {
    "name": (lambda k: leaves(k, ("name",)), "Names of the {what}."),
    "image": (lambda k: leaves(k, ("image",)), "Images of the {what}."),
    "image.repository": (
        repositories,
        "Images of the {what} without tag and digest (reg:5000/app:1 gives reg:5000/app).",
    ),
    "command": (
        lambda k: joined(k, "command"),
        "Command of each of the {what}, its words joined by spaces.",
    ),
    "args": (
        lambda k: joined(k, "args"),
        "Arguments of each of the {what}, joined by spaces.",
    ),
    "privileged": (
        lambda k: leaves(k, (_SC, "privileged")),
        "securityContext.privileged of the {what} that set it.",
    ),
    "allow_privilege_escalation": (
        lambda k: leaves(k, (_SC, "allowPrivilegeEscalation")),
        "securityContext.allowPrivilegeEscalation of the {what} that set it.",
    ),
    "read_only_fs": (
        lambda k: leaves(k, (_SC, "readOnlyRootFilesystem")),
        "securityContext.readOnlyRootFilesystem of the {what} that set it.",
    ),
    "run_as_user": (
        lambda k: leaves(k, (_SC, "runAsUser")),
        "securityContext.runAsUser of the {what} that set it.",
    ),
    "eff_run_as_user": (
        lambda k: effective(k, "runAsUser"),
        "User id each of the {what} runs as: its own runAsUser, else the pod's, else 0.",
    ),
    "run_as_group": (
        lambda k: leaves(k, (_SC, "runAsGroup")),
        "securityContext.runAsGroup of the {what} that set it.",
    ),
    "eff_run_as_group": (
        lambda k: effective(k, "runAsGroup"),
        "Group id each of the {what} runs as: its own runAsGroup, else the pod's, else 0.",
    ),
    "proc_mount": (
        lambda k: leaves(k, (_SC, "procMount")),
        "securityContext.procMount of the {what} that set it.",
    ),
    "add_capabilities": (
        capabilities,
        "Capabilities added by the {what} (securityContext.capabilities.add), one per element.",
    ),
    "host_port": (
        host_ports,
        "Ports of the {what}: each port's hostPort, else its containerPort.",
    ),
}

_WHAT = {
    "containers": "pod's containers",
    "initContainers": "pod's init containers",
    "ephemeralContainers": "pod's ephemeral containers",
}


def container_field(key: str, sub: str) -> FieldDef:
    """``ka.req.pod.<key>.<sub>``: a string list with an optional index argument."""
    build, desc = CONTAINER_SUBFIELDS[sub]
    name = f"ka.req.pod.{key}.{sub}"
    return FieldDef(
        name,
        FieldType.STRING,
        True,
        INDEX_ARG,
        desc.format(what=_WHAT[key]),
        index_binder(name, build(key)),
    )


def container_family(key: str) -> list[FieldDef]:
    """Every sub-field for one list; ephemeral containers have no ports (as upstream)."""
    skip = "host_port" if key == "ephemeralContainers" else None
    return [container_field(key, s) for s in CONTAINER_SUBFIELDS if s != skip]


# ------------------------------------------------------- deprecated scalar forms


def first_image(ev: AuditEvent) -> Value:
    items = _containers(ev.ka, 0)
    if items is None:
        return MISSING
    v = _image(items[0])
    return v if v is MISSING else text(v)


def first_repository(ev: AuditEvent) -> Value:
    image = first_image(ev)
    return repository(image) if isinstance(image, str) else image


def any_privileged(ev: AuditEvent) -> Value:
    items = _containers(ev.ka, None)
    if items is None:
        return MISSING
    hit = any(_privileged(c) is True for c in items)
    return "true" if hit else "false"


def bind_volume_hostpath(arg: str | None) -> Extractor:
    """``true`` when any hostPath volume is ``arg``, or starts with it if it ends in ``*``."""
    wanted = arg or ""
    stem = wanted[:-1] if wanted.endswith("*") else None

    def extract(ev: AuditEvent) -> Value:
        items = _volumes(ev.ka, None)
        if items is None:
            return MISSING
        for vol in items:
            path = _host_path(vol)
            if path is MISSING:
                continue
            path = text(path)
            if path == wanted or (stem is not None and path.startswith(stem)):
                return "true"
        return "false"

    return extract


def deprecated_fields() -> dict[str, FieldDef]:
    """The engine-v4 scalar aliases, by name (the table places them)."""
    s = FieldType.STRING
    return {
        "ka.req.container.image": FieldDef(
            "ka.req.container.image",
            s,
            False,
            None,
            "Deprecated: image of the first container; use ka.req.pod.containers.image.",
            fixed(first_image),
            deprecated=True,
        ),
        "ka.req.container.image.repository": FieldDef(
            "ka.req.container.image.repository",
            s,
            False,
            None,
            "Deprecated: repository of the first container's image; "
            "use ka.req.pod.containers.image.repository.",
            fixed(first_repository),
            deprecated=True,
        ),
        "ka.req.container.privileged": FieldDef(
            "ka.req.container.privileged",
            s,
            False,
            None,
            "Deprecated: true if any container is privileged, else false; "
            "use ka.req.pod.containers.privileged.",
            fixed(any_privileged),
            deprecated=True,
        ),
        "ka.req.volume.hostpath": FieldDef(
            "ka.req.volume.hostpath",
            s,
            False,
            ArgSpec(ArgKind.KEY, required=True),
            "Deprecated: true if a hostPath volume is the argument path (prefix when it "
            "ends in *), else false; use ka.req.pod.volumes.hostpath.",
            bind_volume_hostpath,
            deprecated=True,
        ),
    }
