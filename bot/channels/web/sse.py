"""Server-sent events: a conversation's pushed events, with ids to resume from, keep-alives, and an end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from bot.errors import StorageError
from bot.service import Bus
from bot.service.catchup import CatchUp

KEEPALIVE_SECONDS = 15.0
RETRY_SECONDS = 1.0  # after a failed read of missed lines, the next try
CatchUpFrom = Callable[[int | None], Awaitable[CatchUp]]
log = logging.getLogger(__name__)


def encode(event: dict[str, Any], event_id: int | None = None) -> bytes:
    kind = str(event.get("type", "message"))
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n".encode()


def _lines(caught: CatchUp) -> list[bytes]:
    return [encode({"type": "message", "message": line}, line_id) for line_id, line in caught.lines]


async def stream(
    events: Bus,
    conversation_id: str,
    stopping: asyncio.Event,
    catch_up: CatchUpFrom,
    last_event_id: int | None = None,
    keepalive: float = KEEPALIVE_SECONDS,
) -> AsyncGenerator[bytes]:
    """Yield SSE frames; a pump task feeds a queue so keep-alives never cancel the subscription.

    Event ids are transcript line ids: a transcript line goes out with its own, any other event with
    the id of the last line sent. A client that comes back with `Last-Event-ID` gets the lines stored
    after it from the database (whichever process stored them), then live events; a subscription
    that lost its listener (the database went away) is told to refresh and replays the same way."""
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
    listening = asyncio.Event()
    subscription = events.subscribe(conversation_id, ready=listening)

    async def pump() -> None:
        try:
            async for event in subscription:
                await queue.put(event)
        finally:
            await queue.put(None)

    loop = asyncio.get_running_loop()
    retry: asyncio.TimerHandle | None = None

    def refresh_later() -> None:  # read the missed lines again once the database may be back
        nonlocal retry
        retry = None
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait({"type": "refresh"})

    task = asyncio.create_task(pump())
    stop = asyncio.create_task(stopping.wait())
    try:
        # ": connected" only once the subscription listens: a client may act on it without missing
        # an event. A subscription that fails first ends the stream without it (the client retries).
        waiting = asyncio.create_task(listening.wait())
        await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not listening.is_set():
            return
        yield b"retry: 3000\n: connected\n\n"
        # Read after listening: a line stored from now on is also announced, so none falls between.
        try:
            caught = await catch_up(last_event_id)
        except StorageError as exc:
            log.warning("an event stream ends: the database did not answer (%s); the client reconnects", exc)
            return
        cursor = caught.cursor
        if last_event_id is not None:
            for frame in _lines(caught):
                yield frame
            if caught.status is not None:
                yield encode(caught.status, cursor)
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
            kind = event.get("type")
            if kind == "probe":  # progress of a turn under way: never stored, nothing to replay
                yield encode(event, cursor)
                continue
            if kind == "status":
                yield encode(event, cursor)
            try:
                caught = await catch_up(cursor)
            except StorageError as exc:
                # The event came from this process while the database is away: send it as it came,
                # under the last id, so a reconnect replays the line again rather than losing it.
                log.warning("could not read the lines after %d (%s); trying again shortly", cursor, exc)
                if kind not in ("status", "refresh"):
                    yield encode(event, cursor)
                if retry is None:
                    retry = loop.call_later(RETRY_SECONDS, refresh_later)
                continue
            for frame in _lines(caught):
                yield frame
            cursor = caught.cursor
            if kind == "refresh" and caught.status is not None:  # it may have changed meanwhile
                yield encode(caught.status, cursor)
    finally:
        if retry is not None:
            retry.cancel()
        for t in (task, stop):
            t.cancel()
        for t in (task, stop):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        aclose = getattr(subscription, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
