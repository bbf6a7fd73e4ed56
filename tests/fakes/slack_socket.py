"""A fake Slack Socket Mode endpoint: the WebSocket server `apps.connections.open` points clients at.

`async with FakeSocketMode().running() as sm:` serves ws://127.0.0.1:PORT/link/ on the test's loop;
give `sm.url` to `FakeSlackAPI.socket_mode_url` so `apps.connections.open` hands it out. Like Slack it
greets each connection with `hello`, wraps what it sends in envelopes (`events_api` with
`retry_attempt` / `retry_reason`, `interactive`), records the acks the app sends back by
`envelope_id`, and `disconnect()` sends `{"type": "disconnect"}`, after which a well-behaved client
opens a new connection (asking `apps.connections.open` again).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import serve_app, wait_until

APP_ID = "A0SUPBOT"


class FakeSocketMode:
    def __init__(self) -> None:
        self.connections: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self._envelopes = itertools.count(1)
        self._changed = asyncio.Condition()
        self.url = ""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeSocketMode]:
        app = web.Application()
        app.router.add_get("/link/", self._connect)
        async with serve_app(app) as base:
            self.url = base.replace("http://", "ws://") + "/link/"
            try:
                yield self
            finally:
                for ws in self.connections:
                    await ws.close()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], within: float = 20.0) -> Any:
        return await wait_until(
            self._changed,
            predicate,
            within,
            lambda: f"{len(self.connections)} connections, acks {list(self.acks)}",
        )

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": sum(1 for c in self.connections if not c.closed),
                "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
        )
        await self._notify()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            body = json.loads(message.data)
            if isinstance(body, dict) and body.get("envelope_id"):
                self.acks[str(body["envelope_id"])] = body
                await self._notify()
        await self._notify()
        return ws

    def live(self) -> web.WebSocketResponse:
        open_ = [ws for ws in self.connections if not ws.closed]
        assert open_, "no client is connected"
        return open_[-1]

    async def connected(self, count: int = 1) -> None:
        """Wait until `count` connections have been opened in all (and one is open now)."""
        await self.wait_for(
            lambda: len(self.connections) >= count and any(not c.closed for c in self.connections)
        )

    async def _send(self, kind: str, payload: dict[str, Any], **extra: Any) -> str:
        envelope = f"env-{next(self._envelopes):04d}"
        body = {"envelope_id": envelope, "type": kind, "payload": payload, **extra}
        self.sent.append(body)
        await self.live().send_json(body)
        return envelope

    async def events_api(self, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """An Events API callback in an envelope; a retry repeats the same payload (same event_id)."""
        return await self._send(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason="timeout" if retry_attempt else "",
        )

    async def interactive(self, payload: dict[str, Any]) -> str:
        return await self._send("interactive", payload, accepts_response_payload=True)

    async def acked(self, envelope: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.wait_for(lambda: self.acks.get(envelope))
        return found

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours; waits for the new connection."""
        before = len(self.connections)
        await self.live().send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})
        await self.connected(before + 1)
