"""Which addresses newsmonitor may connect to: the egress policy, as pure address arithmetic.

The network side (resolving a host once, checking every address, connecting to the checked one)
lives in monitor.sources.guard; this module only answers "may we connect to this IP?".

`is_global` alone is not enough (reliability.md T5): on CPython 3.11 the NAT64 form of the
metadata address, 64:ff9b::a9fe:a9fe, counts as global, and 100.64.0.0/10 is neither private nor
global. So an explicit denylist comes on top, and addresses that embed an IPv4 address
(IPv4-mapped, NAT64, 6to4) are judged by the address they embed as well.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*specs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(spec) for spec in specs)


# Never reachable, whatever the config says: cloud metadata, link-local, unspecified, multicast.
NEVER_ALLOWED = _nets(
    "0.0.0.0/8",
    "169.254.0.0/16",
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "224.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "fe80::/10",
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "ff00::/8",
)
# What `allow_private_networks` opens: loopback and the private ranges.
PRIVATE = _nets(
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
)
# Blocked on top of `not is_global`: ranges that stale or partial stdlib tables call global.
DENIED = _nets(
    "64:ff9b::/96",  # NAT64
    "64:ff9b:1::/48",  # local-use NAT64
    "100.64.0.0/10",  # CGNAT
    "192.0.0.0/24",
    "198.18.0.0/15",
    "2001::/32",  # Teredo
    "2002::/16",  # 6to4
    "::/96",  # IPv4-compatible (deprecated)
    "100::/64",
)
_HINT = " (allow_private_networks or fetch.allow_addresses can open it)"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64, 6to4), or None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    in_compat = address in _V4_COMPATIBLE and int(address) >= 1 << 24  # not :: or ::1
    if address in _NAT64 or in_compat:
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


def never_allowed(network: IPNetwork) -> bool:
    """Whether `network` overlaps a range that no configuration may open."""
    return any(network.version == n.version and network.overlaps(n) for n in NEVER_ALLOWED)


def _within(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


@dataclass(frozen=True, slots=True, kw_only=True)
class EgressPolicy:
    """Public addresses only, plus loopback and private ranges with `allow_private`, plus `allow`.

    `allow` opens exactly the listed networks; NEVER_ALLOWED stays closed in every case.
    """

    allow_private: bool = False
    allow: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(cls, *, allow_private: bool, allow: tuple[str, ...] | list[str]) -> EgressPolicy:
        """A policy from config values (networks as strings, e.g. "127.0.0.1/32")."""
        networks = tuple(ipaddress.ip_network(spec, strict=False) for spec in allow)
        return cls(allow_private=allow_private, allow=networks)

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to `address` is refused, or None when it is allowed."""
        inner = embedded_ipv4(address)
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        # An IPv4-mapped address is that IPv4 address on the wire: judge it as one.
        plain: IPAddress = mapped or address
        for candidate in (address, plain, inner):
            if candidate is not None and _within(candidate, NEVER_ALLOWED):
                return f"{address} is a link-local, cloud metadata or unspecified address"
        if _within(plain, self.allow):
            return None
        if self.allow_private and _within(plain, PRIVATE):
            return None
        if _within(plain, DENIED) or not plain.is_global:
            return f"{address} is not a public address{_HINT}"
        if inner is not None and not inner.is_global:
            return f"{address} is not a public address{_HINT}"
        return None
