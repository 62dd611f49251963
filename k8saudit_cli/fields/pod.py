"""Extractors for the pod parts of a request: container lists and volumes.

The field rows that use them are in :mod:`ka_pod`.

``containers``, ``initContainers`` and ``ephemeralContainers`` share one set
of sub-fields so a privileged init container is seen by the same rules as a
privileged container. An optional index argument picks one element of the
list; an out-of-range index, or a list that is absent or not an array, means
"not available". An element lacking the wanted value is skipped.
"""

from __future__ import annotations

from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import Make
from k8saudit_cli.fields.base import MISSING, Extractor, Value
from k8saudit_cli.fields.jsonval import ListGetter, getter, list_getter, text, texts


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
