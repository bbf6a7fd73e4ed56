"""Connection limits and read deadlines for uvicorn, so slow or greedy clients cannot hold the server."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.channels.web.onesend import OneSend

log = logging.getLogger("bot.channels.web.connections")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Descriptors kept free for the database pool, flow files, logs and outgoing probe and sink sockets.
RESERVED_FDS = 128
LINGER = 0.5  # seconds a refused connection stays open after its answer, for the client to read it
MAX_LINGERING = 100


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take and how many connections it may hold (defaults in README)."""

    header_timeout: float = 10.0  # from the connection (or a request's first byte) to its last header
    body_timeout: float = 30.0  # from the last header to the end of the body (bodies are 64 KB at most)
    keepalive_timeout: float = 5.0  # idle between two requests on one connection
    max_connections: int = 1000  # open at once, from everyone
    max_per_address: int = 64  # open at once from one client address (trusted proxies are exempt)


def usable_connections(wanted: int) -> int:
    """`wanted`, or fewer when the process may not open that many files; raises the soft limit first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_FDS
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    usable = max(1, soft - RESERVED_FDS)
    log.warning(
        "the process may open %d files; connections capped at %d instead of %d (raise `ulimit -n`)",
        soft,
        usable,
        wanted,
    )
    return usable


@dataclass
class Gate:
    """Counts open connections, in total and per client address, for one server."""

    limits: ConnectionLimits
    trusted: Sequence[Network] = ()
    total: int = 0
    per_address: Counter[str] = field(default_factory=Counter)
    lingering: int = 0  # refused connections waiting to close

    def admit(self, address: str | None) -> str | None:
        """Count a new connection in; the reason to refuse it instead, or None."""
        if self.total >= self.limits.max_connections:
            return "the server has too many open connections"
        if address is not None and not self._trusted(address):
            if self.per_address[address] >= self.limits.max_per_address:
                return "too many open connections from your address"
            self.per_address[address] += 1
        self.total += 1
        return None

    def release(self, address: str | None) -> None:
        self.total -= 1
        if address is not None and address in self.per_address:
            self.per_address[address] -= 1
            if self.per_address[address] <= 0:
                del self.per_address[address]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)


def _raw_response(status: bytes, message: str, extra: bytes = b"") -> bytes:
    body = message.encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )  # fmt: skip


def guarded_protocol(gate: Gate) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with the gate's caps and the header and body deadlines."""

    class Guarded(_GuardedProtocol):
        pass

    Guarded.gate = gate
    return Guarded


class _GuardedProtocol(HttpToolsProtocol):
    """Refuses connections over the caps; closes with 408 a request whose headers or body are late.

    uvicorn itself only times out idle keep-alive connections: a client that connects and sends
    nothing, half a header or half a body was kept open indefinitely.
    """

    gate: Gate

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = OneSend(transport, self.loop)  # type: ignore[assignment]  # a transport in all but name
        self._deadline: asyncio.TimerHandle | None = None
        self._armed: str | None = None  # the part the deadline is for
        self._waiting_for: str | None = "headers"  # the part of a request still to arrive, if any
        self._address = self.client[0] if self.client else None
        refused = self.gate.admit(self._address)
        self._admitted = refused is None
        if refused is not None:
            message = refused + "; try again later.\n"
            transport.write(_raw_response(b"503 Service Unavailable", message, b"retry-after: 5\r\n"))
            self._linger()
            return
        self._arm(self.gate.limits.header_timeout, "headers")

    def _linger(self) -> None:
        """Close a refused connection so the client reads the refusal first.

        Closing while the client's request is unread makes the kernel send a reset, which may
        discard the answer on the way. So the write side is shut and the close waits a moment, but
        only for a few at a time: under a flood the descriptors matter more than the courtesy.
        """
        self.transport.pause_reading()
        if self.gate.lingering >= MAX_LINGERING or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.gate.lingering += 1

        def close() -> None:
            self.gate.lingering -= 1
            self.transport.close()

        self.loop.call_later(LINGER, close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if getattr(self, "_admitted", False):
            self._admitted = False
            self.gate.release(self._address)
        super().connection_lost(exc)

    # The parser's callbacks only note which part of a request is awaited; the deadline follows once
    # the bytes at hand are parsed. A request that arrives whole in one read (nearly all) then sets and
    # cancels no timer: two timers per request were a measurable share of a request's CPU.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._waiting_for = "headers"

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._waiting_for = "body"

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._waiting_for = None  # between requests, uvicorn's keep-alive timeout applies

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for == self._armed or self.transport.is_closing():
            return  # the deadline running is for the part still awaited (a header or body dripping in)
        if self._waiting_for == "headers":
            self._arm(self.gate.limits.header_timeout, "headers")
        elif self._waiting_for == "body":
            self._arm(self.gate.limits.body_timeout, "body")
        else:
            self._disarm()

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._late, part, seconds)
        self._armed = part

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            assert self._deadline is not None
            self._deadline.cancel()
            self._deadline = None
        self._armed = None

    def _late(self, part: str, seconds: float) -> None:
        self._deadline, self._armed = None, None
        if self.transport.is_closing():
            return
        cycle = self.cycle  # the previous request's, complete, when a later one is late
        if cycle is None or cycle.response_complete or not cycle.response_started:
            message = f"The request's {part} did not arrive within {seconds:g} s; send it at once.\n"
            self.transport.write(_raw_response(b"408 Request Timeout", message))
        self.transport.close()
