"""The client address of a request and the networks that contain it.

The rules language has no CIDR operator that Falco's plugin fields accept,
so a network check is written as a list overlap: ``ka.client.networks``
lists the address itself and every CIDR block containing it
(``203.0.113.45``, ``203.0.113.45/32``, ``203.0.113.44/31`` ... ``0.0.0.0/0``),
and ``ka.client.networks intersects (10.0.0.0/8, 192.168.0.0/16)`` is true
when the client is in one of the listed networks. Listed networks must be
written with their network address (``10.244.0.0/16``, not
``10.244.1.0/16``), as ``ipaddress`` prints them.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.base import MISSING, Value

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _blocks(addr: Address) -> list[str]:
    if addr.version == 4:
        return _blocks_v4(int(addr))
    bits = addr.max_prefixlen
    value = int(addr)
    kind = type(addr)
    out = []
    for length in range(bits, -1, -1):
        host_bits = bits - length
        network = kind((value >> host_bits) << host_bits)
        out.append(f"{network}/{length}")
    return out


def _blocks_v4(value: int) -> list[str]:
    """The IPv4 blocks written with integer arithmetic: a log of pod addresses misses
    the cache below often, and ``ipaddress`` objects cost several times more. The
    blocks of /24 and wider are shared by the 256 addresses of a /24: kept apart."""
    low, head = value & 255, f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}."
    return [f"{head}{(low >> k) << k}/{32 - k}" for k in range(8)] + _blocks_v4_wide(value >> 8)


@lru_cache(maxsize=4096)
def _blocks_v4_wide(prefix: int) -> list[str]:
    """The /24 to /0 blocks of the /24 ``prefix`` (the address shifted right by 8 bits)."""
    out = []
    for length in range(24, -1, -1):
        n = (prefix >> (24 - length)) << (32 - length)
        out.append(f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}/{length}")
    return out


@lru_cache(maxsize=4096)
def networks_of(ip_text: str) -> tuple[str, ...]:
    """The address and every CIDR block that contains it; ``()`` if it is not an address.

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) also yields the IPv4
    blocks, so IPv4 lists match it.
    """
    try:
        addr = ipaddress.ip_address(ip_text.strip())
    except ValueError:
        return ()
    out = [str(addr), *_blocks(addr)]
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        out += [str(mapped), *_blocks(mapped)]
    return tuple(out)


def _source_ips(ev: AuditEvent) -> list[str] | None:
    """The string entries of ``sourceIPs`` (the list itself when all are: callers only read it)."""
    ips = ev.ka.get("sourceIPs")
    if not isinstance(ips, list):
        return None
    if len(ips) == 1 and ips[0].__class__ is str:  # nearly every request
        return ips
    return [ip for ip in ips if isinstance(ip, str)]


def client_ip(ev: AuditEvent) -> Value:
    """The last ``sourceIPs`` entry: the address that connected to the API server.

    Earlier entries come from ``X-Forwarded-For`` / ``X-Real-Ip`` headers,
    which any client can set.
    """
    ips = _source_ips(ev)
    return ips[-1] if ips else MISSING


def client_networks(ev: AuditEvent) -> Value:
    ip = client_ip(ev)
    return list(networks_of(ip)) if isinstance(ip, str) else MISSING


@lru_cache(maxsize=4096)
def _networks_of_all(ips: tuple[str, ...]) -> tuple[str, ...]:
    if len(ips) == 1:
        return networks_of(ips[0])
    # dict keeps the first occurrence of each block, in order
    return tuple(dict.fromkeys(block for ip in ips for block in networks_of(ip)))


def source_networks(ev: AuditEvent) -> Value:
    """The blocks of every source IP (proxy headers included), without repeats.

    Rules read this on every completed request; clusters talk from few
    addresses, so the blocks are cached per address tuple.
    """
    ips = _source_ips(ev)
    return MISSING if ips is None else list(_networks_of_all(tuple(ips)))
