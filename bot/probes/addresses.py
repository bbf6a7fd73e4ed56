"""The explicit list of non-public address ranges a probe must never connect to (no SSRF through a probe)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Written out rather than trusting `is_global`/`is_private`: their tables changed between patch
# releases (3.11.7 misses several ranges), and the probe must not depend on the interpreter's age.
_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4, broadcast)"),
    ("::/128", "unspecified (::)"),
    ("::1/128", "loopback (::1)"),
    ("::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96)"),
    ("::/96", "IPv4-compatible (::/96)"),
    ("::ffff:0:0:0/96", "IPv4-translated (::ffff:0:0:0/96)"),
    ("64:ff9b::/96", "NAT64 (64:ff9b::/96)"),
    ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
    ("100::/64", "discard-only (100::/64)"),
    ("2001::/23", "IETF protocol assignments (2001::/23, Teredo)"),
    ("2001:db8::/32", "documentation (2001:db8::/32)"),
    ("2002::/16", "6to4 (2002::/16)"),
    ("3fff::/20", "documentation (3fff::/20)"),
    ("5f00::/16", "segment routing (5f00::/16)"),
    ("fc00::/7", "unique local (fc00::/7)"),
    ("fe80::/10", "link-local (fe80::/10)"),
    ("fec0::/10", "site-local (fec0::/10)"),
    ("ff00::/8", "multicast (ff00::/8)"),
)

NON_PUBLIC: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), reason) for cidr, reason in _RANGES
)


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return "scoped IPv6 address"
    for network, reason in NON_PUBLIC:
        if address.version == network.version and address in network:
            return reason
    return None


def refusal(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why the probe must not connect to `address`, or None when it may.

    `allow` (SUPPORTBOT_PROBE_ALLOW) exempts addresses only within the same IP version: an
    IPv4 allow-list never exempts an IPv4-mapped or NAT64 IPv6 form of the same address.
    """
    for network in allow:
        if address.version == network.version and address in network:
            return None
    return non_public_reason(address)


def parse_address(text: str) -> IPAddress | None:
    """The IP address written in `text` (brackets allowed), or None when it is not one."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
