"""Live events for a conversation (agent replies, status, probe progress), in one process or across many."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from bot.errors import StorageError
from bot.storage.driver import Driver

log = logging.getLogger(__name__)
CHANNEL = "supportbot_events"
_NOTIFY_LIMIT = 7000  # PostgreSQL refuses NOTIFY payloads over 8000 bytes


class LocalBus:
    """Subscribers in this process; enough for the single-process SQLite default."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def subscribe(
        self, conversation_id: str, ready: asyncio.Event | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The conversation's events as they are published; `ready` is set once nothing published from
        then on can be missed (the generator only registers when it is first awaited)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._queues[conversation_id].add(queue)
        try:
            await self._ready()
            if ready is not None:
                ready.set()
            while True:
                yield await queue.get()
        finally:
            self._queues[conversation_id].discard(queue)
            if not self._queues[conversation_id]:
                del self._queues[conversation_id]

    async def _ready(self) -> None:
        return None

    def deliver_local(self, conversation_id: str, event: dict[str, Any]) -> None:
        for queue in list(self._queues.get(conversation_id, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck reader loses events, not the server
                queue.put_nowait(event)

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        self.deliver_local(conversation_id, event)

    async def close(self) -> None:
        return None


class PostgresBus(LocalBus):
    """LISTEN/NOTIFY: an event published by any process reaches subscribers in every process."""

    def __init__(self, dsn: str, driver: Driver) -> None:
        super().__init__()
        self.dsn = dsn
        self.driver = driver  # publishes on its pooled connections (a new connection each was ~10 ms)
        self._listener: Any = None
        self._lock = asyncio.Lock()

    async def _ready(self) -> None:
        # Listen before the first subscriber waits, so nothing sent after subscribe() is missed.
        async with self._lock:
            if self._listener is None or self._listener.is_closed():
                import asyncpg

                self._listener = await asyncpg.connect(self.dsn)
                await self._listener.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        self.deliver_local(str(data.get("c")), data.get("e") or {})

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        payload = json.dumps({"c": conversation_id, "e": event}, ensure_ascii=False)
        if len(payload.encode()) > _NOTIFY_LIMIT:
            # Too big for NOTIFY: tell listeners to re-read the transcript instead.
            payload = json.dumps({"c": conversation_id, "e": {"type": "refresh"}})
        try:
            async with self.driver.read() as session:
                await session.run("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except StorageError as exc:
            log.warning("could not publish an event (%s); delivering in this process only", exc)
            self.deliver_local(conversation_id, event)

    async def close(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg wants postgresql://…, without SQLAlchemy's +driver suffix."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
