"""Loopback stand-ins for the outside world, shared by every layer's tests.

- `tests.fakes.dns_server`: `FakeDNS`, an authoritative DNS server (UDP and TCP) serving zones from
  dicts, with scripted SERVFAIL / drop / delay / REFUSED / NXDOMAIN; `dnsbl_zone` builds blocklists.
- `tests.fakes.smtp_servers`: `TestPKI` (trustme CA and good / wrong-name / expired / self-signed
  certificates), `SMTPServer` (aiosmtpd: STARTTLS or implicit TLS, AUTH, SIZE, slow greeting),
  `ScriptedSMTP` (raw: tarpit, 554, multi-line greetings, connection recorder), `closed_port()`.
- `tests.fakes.helpdesks`: `FakeZendesk` and `FakeFreshdesk`, their ticket APIs checking auth, paths
  and bodies, with scripted failures and a `hold()` that lets a test kill a worker mid-request.
- `tests.fakes.chatwoot`: `FakeChatwoot`, Chatwoot's application API for an agent bot, echoing the
  bot's own messages back as events, with builders for the webhook events Chatwoot sends.
- `tests.fakes.slack_api` / `tests.fakes.slack_socket`: Slack's Web API, and the Socket Mode WebSocket
  server its `apps.connections.open` points to (hello, envelopes, acks, disconnect).
- `serve_app()` / `wait_until()` here: serve an aiohttp fake on the test's loop; wait on what it saw.
- `connect_log()` here: records every socket connect() in this process (a Python audit hook), to
  prove that no connection was even attempted to an address no listener can stand on (10.x).

The DNS and SMTP servers are context managers running on their own thread and event loop, so they
serve sync tests, async tests and CLI runs alike; the HTTP fakes (Slack, the helpdesks) run on the
test's own loop (`async with Fake().running()`), which also serves a `supportbot worker` child. As pytest fixtures, import the factories into a conftest:
`from tests.fakes.dns_server import fake_dns` / `from tests.fakes.smtp_servers import pki, smtp_server, scripted_smtp`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")

_recorders: list[list[tuple[Any, ...]]] = []
_hook_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _recorders:
        address = args[1]
        for recorder in _recorders:
            recorder.append(tuple(address) if isinstance(address, tuple) else (address,))


@contextlib.contextmanager
def connect_log() -> Iterator[list[tuple[Any, ...]]]:
    """Collect the (host, port, ...) of every socket.connect() made while inside the block."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # audit hooks cannot be removed; it only records while a log is open
        _hook_installed = True
    log: list[tuple[Any, ...]] = []
    _recorders.append(log)
    try:
        yield log
    finally:
        _recorders.remove(log)


class BackgroundLoop:
    """An event loop on a daemon thread; servers run there so the test's own loop stays free."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.call(drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on this event loop at a port the OS picks; yields http://127.0.0.1:PORT."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server) and server.sockets
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


async def wait_until(
    changed: asyncio.Condition, predicate: Callable[[], Any], within: float, seen: Callable[[], str]
) -> Any:
    """Wait until `predicate()` is truthy, re-checked whenever `changed` is notified; a guard against
    hanging, not a timing test. On timeout the AssertionError says what the fake did see."""

    async def until() -> Any:
        async with changed:
            while not (value := predicate()):
                await changed.wait()
            return value

    try:
        return await asyncio.wait_for(until(), within)
    except TimeoutError:
        raise AssertionError(f"the fake never saw what the test waited for; it saw {seen()}") from None
