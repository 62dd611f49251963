"""Values the ``ka.req.podspec.*`` fields read from the pod specs of a request.

Each function takes the specs :mod:`podspec` found and returns a list of
strings. Containers, init containers and ephemeral containers are read
together: a privileged init container is as dangerous as a privileged
container, and a patch may write any of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from k8saudit_cli.fields.jsonval import text
from k8saudit_cli.fields.pod import repository
from k8saudit_cli.fields.podspec import PodSpec

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_HOST_NAMESPACES = (("hostNetwork", "network"), ("hostPID", "pid"), ("hostIPC", "ipc"))
#: Docker Hub, where an image name without a registry host comes from.
DEFAULT_REGISTRY = "docker.io"


def containers(specs: list[PodSpec]) -> Iterator[dict[str, Any]]:
    """Every container object of every kind, in spec order."""
    for spec in specs:
        for key in CONTAINER_LISTS:
            items = spec.get(key)
            if isinstance(items, list):
                yield from (c for c in items if isinstance(c, dict))


def _strings(values: Iterator[Any]) -> list[str]:
    return [v if isinstance(v, str) else text(v) for v in values]


def images(specs: list[PodSpec]) -> list[str]:
    return [c["image"] for c in containers(specs) if isinstance(c.get("image"), str)]


def repositories(specs: list[PodSpec]) -> list[str]:
    return [repository(i) for i in images(specs)]


def registry(image: str) -> str:
    """The registry host of an image reference, port included; ``docker.io`` if none.

    As in the container runtimes, the first path component is a registry only
    when it contains a ``.`` or a ``:`` or is ``localhost``.
    """
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DEFAULT_REGISTRY


def registries(specs: list[PodSpec]) -> list[str]:
    return [registry(i) for i in images(specs)]


def host_of(registry_text: str) -> str:
    """The host part of ``host[:port]``, brackets of an IPv6 literal removed."""
    if registry_text.startswith("["):
        return registry_text[1:].partition("]")[0]
    if registry_text.count(":") == 1:
        return registry_text.partition(":")[0]
    return registry_text


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def ip_registries(specs: list[PodSpec]) -> list[str]:
    return [r for r in registries(specs) if is_ip_literal(host_of(r))]


def container_names(specs: list[PodSpec]) -> list[str]:
    return [c["name"] for c in containers(specs) if isinstance(c.get("name"), str)]


def _security(c: dict[str, Any]) -> dict[str, Any]:
    sc = c.get("securityContext")
    return sc if isinstance(sc, dict) else {}


def privileged(specs: list[PodSpec]) -> list[str]:
    return _strings(
        _security(c)["privileged"] for c in containers(specs) if "privileged" in _security(c)
    )


def add_capabilities(specs: list[PodSpec]) -> list[str]:
    out: list[str] = []
    for c in containers(specs):
        caps = _security(c).get("capabilities")
        added = caps.get("add") if isinstance(caps, dict) else None
        if isinstance(added, list):
            out.extend(_strings(iter(added)))
        elif added is not None:
            out.append(text(added))
    return out


def host_namespaces(specs: list[PodSpec]) -> list[str]:
    return [name for spec in specs for key, name in _HOST_NAMESPACES if spec.get(key) is True]


def normalise_path(path: str) -> str:
    """A host path with ``.``, ``..``, repeated and trailing slashes resolved lexically."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts) if path.startswith("/") else "/".join(parts)


def _raw_host_paths(specs: list[PodSpec]) -> Iterator[str]:
    for spec in specs:
        volumes = spec.get("volumes")
        if not isinstance(volumes, list):
            continue
        for vol in volumes:
            hp = vol.get("hostPath") if isinstance(vol, dict) else None
            path = hp.get("path") if isinstance(hp, dict) else None
            if isinstance(path, str):
                yield path


def host_paths(specs: list[PodSpec]) -> list[str]:
    return [normalise_path(p) for p in _raw_host_paths(specs)]


def host_path_trees(specs: list[PodSpec]) -> list[str]:
    """Each host path and every directory above it, except ``/`` itself."""
    out: list[str] = []
    for path in host_paths(specs):
        while path not in ("/", "") and path not in out:
            out.append(path)
            path = path.rpartition("/")[0] or "/"
    return out


def ports(specs: list[PodSpec]) -> list[str]:
    out: list[str] = []
    for c in containers(specs):
        declared = c.get("ports")
        if not isinstance(declared, list):
            continue
        for port in declared:
            if isinstance(port, dict):
                for key in ("containerPort", "hostPort"):
                    if key in port and text(port[key]) not in out:
                        out.append(text(port[key]))
    return out


def node_selector(specs: list[PodSpec]) -> list[str]:
    out: list[str] = []
    for spec in specs:
        selector = spec.get("nodeSelector")
        if isinstance(selector, dict):
            out.extend(f"{k}={text(v)}" for k, v in selector.items())
    return out
