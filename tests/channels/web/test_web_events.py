"""Server-sent events through a real uvicorn on loopback: agent replies reach the customer's stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.channels.web import sse
from bot.service.catchup import CatchUp
from bot.storage.pubsub import LocalBus
from tests.support.web import AGENT_KEY, live_server


async def next_event(lines: Any) -> dict[str, Any]:
    """The next `data:` payload of the stream, skipping comments and keep-alives."""
    async for line in lines:
        if line.startswith("data:"):
            return json.loads(line[5:])  # type: ignore[no-any-return]
    raise AssertionError("the event stream ended")


async def test_agent_message_is_pushed_to_the_customer(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with live_server(await make_app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/conversations", json={})
        cid, auth = r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}
        await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)

        async with c.stream("GET", f"/api/conversations/{cid}/events", headers=auth) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 3000"
            assert await anext(lines) == ": connected"

            agent = {"Authorization": f"Bearer {AGENT_KEY}"}
            base = f"/api/agent/conversations/{cid}"
            assert (await c.post(f"{base}/claim", json={"agent": "Sam"}, headers=agent)).status_code == 200
            r = await c.post(
                f"{base}/messages", json={"agent": "Sam", "text": "Hello from Sam"}, headers=agent
            )
            assert r.status_code == 201

            seen: list[dict[str, Any]] = []
            async with asyncio.timeout(10):
                while not any(e.get("message", {}).get("text") == "Hello from Sam" for e in seen):
                    seen.append(await next_event(lines))
            assert any(e.get("type") == "status" and e.get("status") == "with_agent" for e in seen)


async def test_events_need_the_token(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with live_server(await make_app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/conversations", json={})
        cid = r.json()["conversation"]
        r = await c.get(f"/api/conversations/{cid}/events")
        assert r.status_code == 401
        r = await c.get(f"/api/conversations/{cid}/events", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 404


async def test_server_stops_with_a_stream_open(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with live_server(await make_app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/conversations", json={})
        cid, auth = r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}
        stream = await c.send(
            c.build_request("GET", f"/api/conversations/{cid}/events", headers=auth), stream=True
        )
        assert stream.status_code == 200
    # Leaving live_server shut uvicorn down although the stream was still open.
    await stream.aclose()


async def nothing_stored(after: int | None) -> CatchUp:
    """A conversation with no transcript lines: the stream has nothing to replay."""
    return CatchUp(cursor=0)


class SlowBus(LocalBus):
    """A bus whose subscriptions start listening only when the test lets them."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def _ready(self) -> None:
        await self.release.wait()


async def test_the_stream_says_connected_only_once_it_listens() -> None:
    bus = SlowBus()
    frames = sse.stream(bus, "c1", asyncio.Event(), nothing_stored, keepalive=60)
    first = asyncio.ensure_future(anext(frames))
    for _ in range(5):  # a stream that didn't wait for its subscription would have answered by now
        await asyncio.sleep(0)
    assert not first.done()
    bus.release.set()
    async with asyncio.timeout(5):
        assert await first == b"retry: 3000\n: connected\n\n"
    await bus.publish("c1", {"type": "status", "status": "with_agent"})
    async with asyncio.timeout(5):
        assert b'"status":"with_agent"' in await anext(frames)
    await frames.aclose()
