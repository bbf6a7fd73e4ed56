"""Event streams that resume: ids from stored transcript lines, Last-Event-ID replay, a database outage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.faults import pg_schema
from tests.support.tcpproxy import Proxy, proxy
from tests.support.web import AGENT_KEY, live_server

AGENT = {"Authorization": f"Bearer {AGENT_KEY}"}


@dataclass
class Frame:
    id: int | None
    event: dict[str, Any]


async def frames(lines: AsyncIterator[str]) -> AsyncIterator[Frame]:
    """The stream's events with their ids; comments (connected, keep-alive) are skipped."""
    event_id: int | None = None
    async for line in lines:
        if line.startswith("id:"):
            event_id = int(line[3:].strip())
        elif line.startswith("data:"):
            yield Frame(event_id, json.loads(line[5:]))
            event_id = None


async def text_of(stream: AsyncIterator[Frame], wanted: str) -> list[Frame]:
    """Frames up to and including the message saying `wanted`."""
    seen: list[Frame] = []
    async with asyncio.timeout(20):  # a bound for a failing run, not a measured time
        async for frame in stream:
            seen.append(frame)
            if frame.event.get("message", {}).get("text") == wanted:
                return seen
    raise AssertionError(f"the stream ended before {wanted!r}; it sent {seen}")


async def claimed(c: httpx.AsyncClient, url: str) -> tuple[str, dict[str, str]]:
    """A conversation an agent (Sam) has taken over, and the customer's auth header."""
    r = await c.post(f"{url}/api/conversations", json={})
    cid, auth = r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}
    await c.post(f"{url}/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
    r = await c.post(f"{url}/api/agent/conversations/{cid}/claim", json={"agent": "Sam"}, headers=AGENT)
    assert r.status_code == 200
    return cid, auth


async def say(c: httpx.AsyncClient, url: str, cid: str, text: str) -> None:
    r = await c.post(
        f"{url}/api/agent/conversations/{cid}/messages", json={"agent": "Sam", "text": text}, headers=AGENT
    )
    assert r.status_code == 201


async def connected(lines: AsyncIterator[str]) -> None:
    assert await anext(lines) == "retry: 3000"
    assert await anext(lines) == ": connected"


async def test_a_client_coming_back_with_last_event_id_gets_what_it_missed_then_live_events(
    make_app: Callable[..., Awaitable[Starlette]], database_url: str
) -> None:
    app = await make_app(database_url=database_url)
    async with live_server(app) as url, httpx.AsyncClient(timeout=20) as c:
        cid, auth = await claimed(c, url)
        events = f"{url}/api/conversations/{cid}/events"
        async with c.stream("GET", events, headers=auth) as stream:
            lines = stream.aiter_lines()
            await connected(lines)
            await say(c, url, cid, "first")
            seen = await text_of(frames(lines), "first")
        first = seen[-1].id
        assert first is not None and all(f.id is not None for f in seen)

        # Away from the page (or the connection dropped): two replies are stored meanwhile.
        await say(c, url, cid, "second")
        await say(c, url, cid, "third")
        async with c.stream("GET", events, headers={**auth, "Last-Event-ID": str(first)}) as stream:
            lines = stream.aiter_lines()
            await connected(lines)
            stream_frames = frames(lines)
            replayed = await text_of(stream_frames, "third")
            texts = [f.event["message"]["text"] for f in replayed if f.event["type"] == "message"]
            assert texts == ["second", "third"]  # after the id it had, in order, nothing twice
            ids = [f.id or 0 for f in replayed if f.event["type"] == "message"]
            assert ids == sorted(set(ids)) and ids[0] > first
            await say(c, url, cid, "fourth")  # and then live
            live = await text_of(stream_frames, "fourth")
            assert live[-1].id is not None and live[-1].id > ids[-1]

        # Without Last-Event-ID a stream starts from now: nothing old is sent again.
        async with c.stream("GET", events, headers=auth) as stream:
            lines = stream.aiter_lines()
            await connected(lines)
            await say(c, url, cid, "fifth")
            fresh = await text_of(frames(lines), "fifth")
            assert [f.event["message"]["text"] for f in fresh if f.event["type"] == "message"] == ["fifth"]


async def test_a_last_event_id_that_is_not_an_id_is_refused(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with live_server(await make_app()) as url, httpx.AsyncClient(timeout=20) as c:
        cid, auth = await claimed(c, url)
        r = await c.get(f"{url}/api/conversations/{cid}/events", headers={**auth, "Last-Event-ID": "abc"})
        assert r.status_code == 400
        assert "Last-Event-ID" in r.json()["message"]


def through(database_url: str, port: int) -> str:
    """The same database reached through a proxy on `port` of loopback."""
    netloc = urlsplit(database_url).netloc
    host = netloc.rsplit("@", 1)[-1]
    return database_url.replace(host, f"127.0.0.1:{port}", 1)


@pytest.mark.postgres
async def test_a_stream_open_across_a_database_outage_replays_what_it_missed(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with pg_schema() as database_url:
        target = urlsplit(database_url)
        async with proxy(target.hostname or "127.0.0.1", target.port or 5432) as outage:
            await outage_replayed(make_app, database_url, outage)


async def outage_replayed(
    make: Callable[..., Awaitable[Starlette]], database_url: str, outage: Proxy
) -> None:
    """Two app instances on one database: the customer's stream is on `behind`, which reaches
    PostgreSQL through the proxy; the agent writes through `direct`."""
    behind = await make(database_url=through(database_url, outage.port))
    direct = await make(database_url=database_url)
    async with (
        live_server(behind) as stream_url,
        live_server(direct) as agent_url,
        httpx.AsyncClient(timeout=20) as c,
    ):
        cid, auth = await claimed(c, agent_url)
        async with c.stream("GET", f"{stream_url}/api/conversations/{cid}/events", headers=auth) as stream:
            lines = stream.aiter_lines()
            await connected(lines)
            stream_frames = frames(lines)
            await say(c, agent_url, cid, "before")
            await text_of(stream_frames, "before")

            await outage.cut()  # every connection of `behind` to PostgreSQL is gone, its listener too
            await say(c, agent_url, cid, "during")  # stored and announced while nobody listens there
            await outage.start()

            seen = await text_of(stream_frames, "during")  # replayed from the database
            assert all(f.id is not None for f in seen)
            await say(c, agent_url, cid, "after")  # and it listens again
            await text_of(stream_frames, "after")
