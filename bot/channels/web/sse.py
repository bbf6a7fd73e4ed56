"""Server-sent events: a conversation's pushed events, with keep-alives, ending on disconnect or shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

from bot.service import Bus

KEEPALIVE_SECONDS = 15.0


def encode(event: dict[str, Any]) -> bytes:
    kind = str(event.get("type", "message"))
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


async def stream(
    events: Bus,
    conversation_id: str,
    stopping: asyncio.Event,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncGenerator[bytes]:
    """Yield SSE frames; a pump task feeds a queue so keep-alives never cancel the subscription."""
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
    listening = asyncio.Event()
    subscription = events.subscribe(conversation_id, ready=listening)

    async def pump() -> None:
        try:
            async for event in subscription:
                await queue.put(event)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    stop = asyncio.create_task(stopping.wait())
    try:
        # ": connected" only once the subscription listens: a client may act on it without missing
        # an event. A subscription that fails first ends the stream below (the pump queues None).
        waiting = asyncio.create_task(listening.wait())
        await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        yield b"retry: 3000\n: connected\n\n"
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, stop}, timeout=keepalive, return_when="FIRST_COMPLETED")
            if getter not in done:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                if stop in done:
                    return
                yield b": keep-alive\n\n"
                continue
            event = getter.result()
            if event is None:
                return
            yield encode(event)
    finally:
        for t in (task, stop):
            t.cancel()
        for t in (task, stop):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        aclose = getattr(subscription, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
