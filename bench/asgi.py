"""CPU per message of `supportbot serve`'s app driven in process, without sockets or a load generator.

    python bench/asgi.py                        # 5 rounds of 300 customers (1,800 messages each)
    python bench/asgi.py --customers 100 --rounds 1 --callgrind   # under valgrind, see below

The same customers as bench/http.py (6 turns through the reference flow, every tenth asks for a
person), 50 at once, straight into the ASGI app (middleware, routes, service, engine, SQLite); the
uvicorn protocol and the connection guard are not in it. Prints the process's CPU time per message
for each round (the least is the steadiest on a shared machine).

Instruction counts do not depend on what else the machine runs. For them, run under callgrind with
instrumentation off until the measured round, which switches it on and off itself:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \\
        python bench/asgi.py --customers 100 --rounds 1 --callgrind

and divide the "I refs" valgrind prints by the messages.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# bench/http.py is named like the standard library's `http`: take this folder off the import path,
# and measure this checkout's `bot`, whatever another editable install points at.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

Message = dict[str, Any]
App = Callable[
    [dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
OPENING = {"flow": "cant-send-email"}
ANSWERS: list[dict[str, str]] = [
    {"text": "it says my password is wrong"},
    {"choice": "no"},
    {"choice": "no"},
    {"text": "example.com"},
]
LAST, HUMAN = {"choice": "no"}, {"text": "I want to talk to a human"}
AT_ONCE = 50


async def post(app: App, path: str, headers: dict[str, str], body: dict[str, str]) -> tuple[int, Any]:
    """One request through the app as uvicorn would hand it over; (status, decoded JSON body)."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(raw)).encode()), (b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),  # the trusted proxy: X-Forwarded-For names the customer
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    chunks = [{"type": "http.request", "body": raw, "more_body": False}]
    status, sent = 0, bytearray()

    async def receive() -> Message:
        if chunks:
            return chunks.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            sent.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, json.loads(sent)


async def customer(app: App, n: int) -> int:
    """One conversation start to end; the messages it sent."""
    headers = {
        "X-Forwarded-For": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
        "Content-Type": "application/json",
    }
    status, opened = await post(app, "/api/conversations", headers, OPENING)
    assert status == 201, (status, opened)
    headers["Authorization"] = f"Bearer {opened['token']}"
    path = f"/api/conversations/{opened['conversation']}/messages"
    for i, body in enumerate([*ANSWERS, HUMAN if n % 10 == 9 else LAST], start=1):
        headers["Idempotency-Key"] = f"{n}-{i}"
        status, turn = await post(app, path, headers, body)
        assert status == 200, (status, turn)
    return 1 + len(ANSWERS) + 1


async def customers(app: App, count: int, numbers: Any) -> int:
    """`count` customers, AT_ONCE at a time; the messages sent."""

    async def one_after_another(k: int) -> int:
        return sum([await customer(app, next(numbers)) for _ in range(k)])

    return sum(await asyncio.gather(*(one_after_another(count // AT_ONCE) for _ in range(AT_ONCE))))


def callgrind(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


async def lifespan(app: App) -> Callable[[], Awaitable[None]]:
    """Start the app's background work; the function that stops it."""
    events: asyncio.Queue[Message] = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    events.put_nowait({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, events.get, send)
    )
    await started.wait()

    async def stop() -> None:
        events.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 10)

    return stop


async def main(args: argparse.Namespace) -> None:
    from bot.channels.web.wiring import build_app
    from bot.settings import Settings

    with tempfile.TemporaryDirectory(prefix="supportbot-asgi-") as tmp:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "SUPPORTBOT_FLOWS": str(ROOT / "flows"),
            "SUPPORTBOT_TRUSTED_PROXIES": "127.0.0.1/32",
            "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",  # never the internet's DNS
        }
        app: Any = await build_app(Settings.from_env({**os.environ, **env}))
        gc.freeze()  # as `supportbot serve` does after building the app
        stop = await lifespan(app)
        numbers = iter(range(1, 1 << 24))
        try:
            await customers(app, 200, numbers)  # warm-up: caches, the first conversations, the JIT-free paths
            for _ in range(args.rounds):
                if args.callgrind:
                    callgrind("on")
                began = time.process_time()
                messages = await customers(app, args.customers, numbers)
                used = time.process_time() - began
                if args.callgrind:
                    callgrind("off")
                print(f"{messages} messages, CPU {used * 1000 / messages:.3f} ms/message", flush=True)
        finally:
            await stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=300, help=f"per round, a multiple of {AT_ONCE}")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--callgrind", action="store_true", help="count instructions only in the rounds")
    import uvloop

    uvloop.run(main(parser.parse_args()))
