"""Our own ``ka.*`` fields: pod specs anywhere in a request, patch bodies, client networks.

The k8saudit plugin has none of these, so Falco cannot load a rule that
uses them; the default rules that do are marked ``skip-if-unknown-filter``
(see docs/rules.md). Every description starts with "Extension:" so the
field table shows which fields are ours.
"""

from __future__ import annotations

from collections.abc import Callable

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import netaddr, patchbody
from k8saudit_cli.fields import podspec_values as psv
from k8saudit_cli.fields.base import MISSING, FieldDef, Value
from k8saudit_cli.fields.ka_shapes import computed
from k8saudit_cli.fields.podspec import PodSpec, pod_specs

_SPECS = (
    "of every pod spec in the request: a pod, a workload's pod template, a "
    "CronJob's job template or a patch body of any type"
)


def from_specs(read: Callable[[list[PodSpec]], list[str]]) -> Callable[[AuditEvent], Value]:
    """An extractor giving ``read``'s values, or not available when the request has no pod spec."""

    def extract(ev: AuditEvent) -> Value:
        specs = pod_specs(ev)
        return read(specs) if specs else MISSING

    return extract


def podspec(name: str, desc: str, read: Callable[[list[PodSpec]], list[str]]) -> FieldDef:
    return computed(f"ka.req.podspec.{name}", f"Extension: {desc}", from_specs(read), is_list=True)


#: ``ka.req.podspec.*``: containers of every kind, read together.
PODSPEC_FIELDS: tuple[FieldDef, ...] = (
    podspec(
        "images", f"Images of every container, init and ephemeral container {_SPECS}.", psv.images
    ),
    podspec(
        "image.repositories",
        "Those images without tag and digest (reg:5000/app:1 gives reg:5000/app).",
        psv.repositories,
    ),
    podspec(
        "image.registries",
        "Registry host of each of those images, port included; docker.io when the "
        "name has none (nginx:1.27, bitnami/redis).",
        psv.registries,
    ),
    podspec(
        "image.ip_registries",
        "The registries of those images that are IP addresses (10.1.2.3:5000).",
        psv.ip_registries,
    ),
    podspec("containers", f"Names of every container of every kind {_SPECS}.", psv.container_names),
    podspec(
        "privileged",
        "securityContext.privileged of every container of every kind that sets it.",
        psv.privileged,
    ),
    podspec(
        "add_capabilities",
        "Capabilities added by any container of any kind, one per element.",
        psv.add_capabilities,
    ),
    podspec(
        "host_namespaces",
        "Host namespaces a pod spec shares: network, pid, ipc (hostNetwork, hostPID, "
        "hostIPC set to true).",
        psv.host_namespaces,
    ),
    podspec(
        "hostpaths",
        "hostPath paths of the volumes, normalised (//, ., .. and trailing / resolved).",
        psv.host_paths,
    ),
    podspec(
        "hostpath_trees",
        "Each normalised hostPath and every directory above it except / "
        "(/etc/cron.d/x gives /etc/cron.d/x, /etc/cron.d, /etc).",
        psv.host_path_trees,
    ),
    podspec("ports", "containerPort and hostPort numbers of every container.", psv.ports),
    podspec("node_selector", "nodeSelector entries as key=value.", psv.node_selector),
)

#: What a write request's body changes.
PATCH_FIELDS: tuple[FieldDef, ...] = (
    computed(
        "ka.req.patch.type",
        "Extension: for patch requests, the patch type read from the body: json (an "
        "array of operations), apply (has apiVersion and kind), strategic (has "
        "$-directives) or merge.",
        patchbody.patch_type,
    ),
    computed(
        "ka.req.patch.paths",
        "Extension: JSON pointers the request body writes, with their ancestors: each "
        "JSON-patch operation's path, or each key of an object body (not inside arrays).",
        patchbody.written_paths,
        is_list=True,
    ),
    computed(
        "ka.req.patch.added_containers",
        "Extension: for patch requests, names of containers the patch adds in full: "
        "JSON-patch add of a container object, or a container entry with image and "
        "command or args in a merge-style patch.",
        patchbody.added_containers,
        is_list=True,
    ),
    computed(
        "ka.req.replicas",
        "Extension: the replica count the request body sets: spec.replicas (also of a "
        "scale subresource), or the value of a JSON-patch operation on /spec/replicas.",
        patchbody.replicas,
    ),
)

#: Where the request came from, as networks a list can name.
CLIENT_FIELDS: tuple[FieldDef, ...] = (
    computed(
        "ka.client.ip",
        "Extension: the last sourceIPs entry, the address that connected to the API "
        "server (earlier entries come from proxy headers the client can set).",
        netaddr.client_ip,
    ),
    computed(
        "ka.client.networks",
        "Extension: ka.client.ip and every CIDR block containing it, from /32 (/128) to "
        "/0, for `intersects (10.0.0.0/8, ...)` checks.",
        netaddr.client_networks,
        is_list=True,
    ),
    computed(
        "ka.sourceips.networks",
        "Extension: the same for every sourceIPs entry, proxy headers included.",
        netaddr.source_networks,
        is_list=True,
    ),
)

EXTENSION_FIELDS: tuple[FieldDef, ...] = (*PODSPEC_FIELDS, *PATCH_FIELDS, *CLIENT_FIELDS)
