"""Live events: a subscriber says when it listens, and from then on hears everything published."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import pytest

from bot.storage.pubsub import PostgresBus, asyncpg_dsn
from tests.support.faults import pg_schema
from tests.support.storage import Subscriber, running_parts


async def test_ready_means_nothing_published_afterwards_is_missed(database_url: str) -> None:
    # Published by one service and heard through another: across processes on PostgreSQL
    # (LISTEN/NOTIFY); SQLite's bus is in-process, so there both sides share one.
    async with running_parts(database_url) as parts, running_parts(database_url) as other:
        listener = other.events if database_url.startswith("postgresql") else parts.events
        listening = asyncio.Event()
        heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def listen() -> None:
            async for event in listener.subscribe("c1", ready=listening):
                heard.put_nowait(event)

        task = asyncio.create_task(listen())
        try:
            async with asyncio.timeout(10):
                await listening.wait()
            await parts.events.publish("c1", {"type": "status", "status": "with_agent"})
            await parts.events.publish("c2", {"type": "status", "status": "closed"})  # someone else's
            async with asyncio.timeout(10):
                assert await heard.get() == {"type": "status", "status": "with_agent"}
            await asyncio.sleep(0)
            assert heard.empty()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.postgres
async def test_a_listener_whose_backend_is_terminated_listens_again_and_says_to_refresh() -> None:
    async with (
        pg_schema() as database_url,
        running_parts(database_url) as parts,
        running_parts(database_url) as other,
    ):
        bus = parts.events
        assert isinstance(bus, PostgresBus)
        async with Subscriber(bus, "c1") as heard:
            pid = bus.listener_pid()
            assert pid is not None
            admin = await asyncpg.connect(asyncpg_dsn(database_url))
            try:
                # What a database restart or an operator's kill does to the listening connection.
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            async with asyncio.timeout(20):
                await heard.wait_for(lambda e: e.get("type") == "refresh")  # missed events: re-read
            assert bus.listener_pid() not in (None, pid)
            await other.events.publish("c1", {"type": "status", "status": "closed"})
            async with asyncio.timeout(20):
                await heard.wait_for(lambda e: e.get("status") == "closed")  # listening again


async def test_an_observer_sees_what_this_process_publishes_until_it_stops_watching(
    database_url: str,
) -> None:
    async with running_parts(database_url) as parts, running_parts(database_url) as other:
        seen: list[tuple[str, str, str]] = []

        def observer(name: str) -> Any:
            async def observe(conversation_id: str, event: dict[str, Any]) -> None:
                seen.append((name, conversation_id, event["type"]))

            return observe

        unwatch = parts.events.watch(observer("here"))
        other.events.watch(observer("there"))
        await parts.events.publish("c1", {"type": "status"})
        await other.events.publish("c2", {"type": "message"})
        unwatch()
        await parts.events.publish("c3", {"type": "status"})
        # Each event once, by the process that published it, however many processes listen.
        assert seen == [("here", "c1", "status"), ("there", "c2", "message")]
