"""`supportbot serve` as a child process on a free loopback port, for tests that need a real server."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    url: str
    output: bytearray  # everything the server printed; complete once serve() has returned


async def stop(proc: asyncio.subprocess.Process, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL if the child has not exited within `grace` seconds; reaped either way."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def serve(env: dict[str, str]) -> AsyncIterator[Served]:
    """`supportbot serve --port 0` in a child process; yields once it listens; stopped (or reaped) after."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    drain: asyncio.Task[None] | None = None
    output = bytearray()

    async def keep_reading() -> None:  # never block the child on a full pipe
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            output.extend(chunk)

    try:
        url = None
        async with asyncio.timeout(30):
            while url is None:
                line = (await proc.stdout.readline()).decode()
                output.extend(line.encode())
                if not line:
                    raise AssertionError(
                        f"supportbot serve exited with {await proc.wait()}: {output.decode()}"
                    )
                if found := re.search(r"running on (http://127\.0\.0\.1:\d+)", line):
                    url = found.group(1)
        drain = asyncio.create_task(keep_reading())
        yield Served(proc, url, output)
    finally:
        await stop(proc)
        if drain is not None:
            await drain
            # Shown by pytest only when the test fails: the child's log says what went wrong inside.
            print(output.decode(errors="replace")[-4000:])
