"""``ka.req.pod.*`` and the older ``ka.req.container.*``/``ka.req.volume.*`` fields.

``containers``, ``initContainers`` and ``ephemeralContainers`` share one set
of sub-fields (:data:`CONTAINER_SUBFIELDS`) so a privileged init container is
seen by the same rules as a privileged container. The deprecated scalar forms
sit next to the fields that replace them, where the plugin lists them.
"""

from __future__ import annotations

from collections.abc import Callable

from k8saudit_cli.fields.args import INDEX_ARG, KEY_ARG, Make, index_binder
from k8saudit_cli.fields.base import FieldDef, FieldType
from k8saudit_cli.fields.ka_shapes import array, at_path, computed, indexed, scalar
from k8saudit_cli.fields.pod import (
    any_privileged,
    bind_volume_hostpath,
    capabilities,
    effective,
    first_image,
    first_repository,
    host_ports,
    joined,
    leaves,
    repositories,
    volume_types,
)

_SC = "securityContext"
_RO = "requestObject"

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


def container_family(key: str) -> tuple[FieldDef, ...]:
    """Every sub-field for one list; ephemeral containers have no ports (as upstream)."""
    skip = "host_port" if key == "ephemeralContainers" else None
    return tuple(container_field(key, s) for s in CONTAINER_SUBFIELDS if s != skip)


def _containers(sub: str) -> FieldDef:
    return container_field("containers", sub)


#: The pod's containers and the pod-level security settings, interleaved as the plugin does.
POD_SPEC_FIELDS: tuple[FieldDef, ...] = (
    _containers("args"),
    _containers("command"),
    _containers("name"),
    _containers("image"),
    computed(
        "ka.req.container.image",
        "Deprecated: image of the first container; use ka.req.pod.containers.image.",
        first_image,
        deprecated=True,
    ),
    _containers("image.repository"),
    computed(
        "ka.req.container.image.repository",
        "Deprecated: repository of the first container's image; "
        "use ka.req.pod.containers.image.repository.",
        first_repository,
        deprecated=True,
    ),
    scalar("ka.req.pod.host_ipc", "The pod's hostIPC flag.", _RO, "spec", "hostIPC"),
    scalar("ka.req.pod.host_network", "The pod's hostNetwork flag.", _RO, "spec", "hostNetwork"),
    computed(
        "ka.req.container.host_network",
        "Deprecated alias of ka.req.pod.host_network.",
        at_path(_RO, "spec", "hostNetwork"),
        deprecated=True,
    ),
    scalar("ka.req.pod.host_pid", "The pod's hostPID flag.", _RO, "spec", "hostPID"),
    _containers("host_port"),
    _containers("privileged"),
    computed(
        "ka.req.container.privileged",
        "Deprecated: true if any container is privileged, else false; "
        "use ka.req.pod.containers.privileged.",
        any_privileged,
        deprecated=True,
    ),
    _containers("allow_privilege_escalation"),
    _containers("read_only_fs"),
    scalar(
        "ka.req.pod.run_as_user",
        "runAsUser of the pod's security context.",
        _RO,
        "spec",
        _SC,
        "runAsUser",
    ),
    _containers("run_as_user"),
    _containers("eff_run_as_user"),
    scalar(
        "ka.req.pod.run_as_group",
        "runAsGroup of the pod's security context.",
        _RO,
        "spec",
        _SC,
        "runAsGroup",
    ),
    _containers("run_as_group"),
    _containers("eff_run_as_group"),
    _containers("proc_mount"),
)

#: Group ids and capabilities (the plugin lists them after the role fields).
POD_PRIVILEGE_FIELDS: tuple[FieldDef, ...] = (
    scalar(
        "ka.req.pod.fs_group",
        "fsGroup of the pod's security context.",
        _RO,
        "spec",
        _SC,
        "fsGroup",
    ),
    array(
        "ka.req.pod.supplemental_groups",
        "supplementalGroups of the pod's security context.",
        _RO,
        "spec",
        _SC,
        "supplementalGroups",
    ),
    _containers("add_capabilities"),
)

#: The pod's volumes.
VOLUME_FIELDS: tuple[FieldDef, ...] = (
    indexed(
        "ka.req.pod.volumes.hostpath",
        "hostPath paths of the pod's volumes.",
        leaves("volumes", ("hostPath", "path")),
    ),
    FieldDef(
        "ka.req.volume.hostpath",
        FieldType.STRING,
        False,
        KEY_ARG,
        "Deprecated: true if a hostPath volume is the argument path (prefix when it "
        "ends in *), else false; use ka.req.pod.volumes.hostpath.",
        bind_volume_hostpath,
        deprecated=True,
    ),
    indexed(
        "ka.req.pod.volumes.flexvolume_driver",
        "flexVolume drivers of the pod's volumes.",
        leaves("volumes", ("flexVolume", "driver")),
    ),
    indexed(
        "ka.req.pod.volumes.volume_type",
        "Source kind of each of the pod's volumes "
        "(hostPath, secret, ...): its keys other than name.",
        volume_types,
    ),
)

INIT_CONTAINER_FIELDS = container_family("initContainers")
EPHEMERAL_CONTAINER_FIELDS = container_family("ephemeralContainers")
