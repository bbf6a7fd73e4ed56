"""Live events: a subscriber says when it listens, and from then on hears everything published."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.support.storage import running_parts


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
