"""Slow and greedy clients against a real `supportbot serve`: read deadlines and connection caps, on sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.serving import serve

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow
# How long the test waits for the server to act: a guard far above the configured deadlines (1 s) and
# far below what the server did before they existed (connections kept open for minutes).
GUARD = 15.0

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SUPPORTBOT_FLOWS": str(ROOT / "flows"),
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",
        **extra,
    }


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def _connect(port: int, source: str = "127.0.0.1") -> Conn:
    """A TCP connection from `source` (any 127/8 address is this machine's loopback on Linux)."""
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    async with asyncio.timeout(GUARD):
        return await reader.read()


async def _close(*conns: Conn) -> None:
    """Close the test's side too (the server may already have closed its side)."""
    for _, writer in conns:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _get(port: int, source: str = "127.0.0.1") -> bytes:
    conn = await _connect(port, source)
    conn[1].write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
    await conn[1].drain()
    try:
        return await _until_closed(conn[0])
    finally:
        await _close(conn)


@contextlib.asynccontextmanager
async def _held(port: int, source: str, n: int) -> AsyncIterator[list[Conn]]:
    conns = [await _connect(port, source) for _ in range(n)]
    try:
        yield conns
    finally:
        await _close(*conns)


async def test_silent_half_sent_and_dripping_clients_are_cut_off(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        SUPPORTBOT_HEADER_TIMEOUT="1",
        SUPPORTBOT_BODY_TIMEOUT="1",
        SUPPORTBOT_KEEPALIVE_TIMEOUT="1",
    )
    async with serve(env) as served:
        port = _port(served.url)
        silent = await _connect(port)
        half_header = await _connect(port)
        half_header[1].write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n")
        half_body = await _connect(port)
        half_body[1].write(
            b"POST /api/conversations HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"flow":'
        )
        kept_alive = await _connect(port)
        kept_alive[1].write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        dripping = await _connect(port)

        async def drip() -> None:
            # A byte at a time, each well inside any per-read timeout: only a deadline on the whole
            # header stops it.
            for byte in b"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Slow: " + b"a" * 200:
                dripping[1].write(bytes([byte]))
                await asyncio.sleep(0.2)

        dripper = asyncio.create_task(drip())
        try:
            answers = await asyncio.gather(
                *(_until_closed(r) for r, _ in (silent, half_header, half_body, kept_alive, dripping))
            )
        finally:
            dripper.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await dripper
            await _close(silent, half_header, half_body, kept_alive, dripping)
        silent_answer, header_answer, body_answer, kept_answer, drip_answer = answers
        assert silent_answer.startswith(b"HTTP/1.1 408 ")
        assert header_answer.startswith(b"HTTP/1.1 408 ") and b"headers did not arrive" in header_answer
        assert body_answer.startswith(b"HTTP/1.1 408 ") and b"body did not arrive" in body_answer
        assert kept_answer.startswith(b"HTTP/1.1 200 ") and kept_answer.count(b"HTTP/1.1") == 1
        assert drip_answer.startswith(b"HTTP/1.1 408 ")
        # The server is as good as before for everyone else.
        assert (await _get(port)).startswith(b"HTTP/1.1 200 ")


async def test_connections_are_capped_per_address_and_overall(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        SUPPORTBOT_MAX_CONNECTIONS="9",
        SUPPORTBOT_MAX_CONNECTIONS_PER_ADDRESS="4",
        SUPPORTBOT_TRUSTED_PROXIES="127.0.0.9/32",
    )
    async with serve(env) as served:
        port = _port(served.url)
        async with _held(port, "127.0.0.1", 4) as greedy:
            # The fifth from the same address is refused with a reason; others are served.
            refused = await _get(port, "127.0.0.1")
            assert refused.startswith(b"HTTP/1.1 503 ") and b"from your address" in refused
            assert (await _get(port, "127.0.0.2")).startswith(b"HTTP/1.1 200 ")
            # A trusted proxy carries many clients: only the overall cap applies to it.
            async with _held(port, "127.0.0.9", 5):
                full = await _get(port, "127.0.0.3")
                assert full.startswith(b"HTTP/1.1 503 ") and b"too many open connections" in full
            # Connections closed are counted out again.
            greedy[0][1].close()
            await greedy[0][1].wait_closed()
            for _attempt in range(50):
                answer = await _get(port, "127.0.0.1")
                if answer.startswith(b"HTTP/1.1 200 "):
                    break
                await asyncio.sleep(0.1)  # the server sees the close a moment after the client
            assert answer.startswith(b"HTTP/1.1 200 ")
