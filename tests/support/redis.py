"""Redis for the shared rate-limit tests: the machine's server (a db of its own), or a private one to kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

# The machine's Redis (.ci/run starts it); db 5 is these tests', flushed before each use.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


async def _ping(url: str) -> bool:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def shared_redis() -> str:
    """TEST_REDIS_URL, emptied (only its own db); skips the test when Redis is not running."""
    import redis.asyncio

    if not await _ping(TEST_REDIS_URL):
        pytest.skip(
            f"no Redis at {TEST_REDIS_URL} (start it: `service redis-server start`, or set TEST_REDIS_URL)"
        )
    client = redis.asyncio.Redis.from_url(TEST_REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return TEST_REDIS_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateRedis:
    url: str
    proc: asyncio.subprocess.Process

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


@contextlib.asynccontextmanager
async def private_redis(port: int) -> AsyncIterator[PrivateRedis]:
    """A redis-server of this test's own on `port` (no persistence), killed on the way out if not before."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    log = bytearray()
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(10):
            while b"Ready to accept connections" not in log:
                line = await proc.stdout.readline()
                if not line:
                    raise AssertionError(f"redis-server exited: {log.decode(errors='replace')}")
                log.extend(line)
        drain = asyncio.create_task(proc.stdout.read())  # never block it on a full pipe
        yield PrivateRedis(f"redis://127.0.0.1:{port}/0", proc)
    finally:
        await PrivateRedis("", proc).kill()
        if drain is not None:
            await drain
