"""The customer's address: the peer, or X-Forwarded-For when the peer is a trusted proxy."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)  # every request parses its peer (and hops): recent ones are reused
def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.9:5000
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(scope: Scope, trusted: Sequence[Network]) -> str:
    """Walk X-Forwarded-For right to left through trusted proxies; the first other hop is the client."""
    peer = scope.get("client")
    host = peer[0] if peer else ""
    current = _parse(host)
    if current is None:
        return host or "unknown"
    if not trusted:
        return str(current)
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(value.decode("latin-1").split(","))
    for hop in reversed(hops):
        if not any(current in net for net in trusted):
            break
        parsed = _parse(hop)
        if parsed is None:
            break
        current = parsed
    return str(current)


def client_scheme(scope: Scope, trusted: Sequence[Network]) -> str:
    """ "https" when the connection was TLS, or a trusted proxy says (X-Forwarded-Proto) it was."""
    scheme = str(scope.get("scheme", "http"))
    peer = scope.get("client")
    current = _parse(peer[0]) if peer else None
    if current is None or not any(current in net for net in trusted):
        return scheme
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            # The proxy next to us wrote the last value; a proxy that overwrites writes the only one.
            forwarded = value.decode("latin-1").split(",")[-1].strip().lower()
            if forwarded in ("http", "https"):
                scheme = forwarded
    return scheme
