"""Live events for a conversation (agent replies, status, probe progress), in one process or across many."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bot.errors import StorageError
from bot.storage.driver import Driver

log = logging.getLogger(__name__)
CHANNEL = "supportbot_events"
_NOTIFY_LIMIT = 7000  # PostgreSQL refuses NOTIFY payloads over 8000 bytes
Observer = Callable[[str, dict[str, Any]], Awaitable[None]]


class LocalBus:
    """Subscribers in this process; enough for the single-process SQLite default."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._observers: list[Observer] = []

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

    def watch(self, observer: Observer) -> Callable[[], None]:
        """Also hand every event this process publishes to `observer`, once its subscribers have it;
        returns what stops that. Only the publishing process sees an event here, so an observer acts on
        each event once however many processes listen (a Slack relay, for one)."""
        self._observers.append(observer)

        def unwatch() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unwatch

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        await self._send(conversation_id, event)
        for observer in list(self._observers):
            await observer(conversation_id, event)

    async def _send(self, conversation_id: str, event: dict[str, Any]) -> None:
        self.deliver_local(conversation_id, event)

    async def close(self) -> None:
        return None


class PostgresBus(LocalBus):
    """LISTEN/NOTIFY: an event published by any process reaches subscribers in every process.

    When the listening connection is lost (the database restarted, or a proxy dropped it), the bus
    listens again as soon as the database answers and tells every subscriber to refresh: what was
    published meanwhile never arrived, and the subscribers replay it from the stored transcript."""

    def __init__(self, dsn: str, driver: Driver, *, retry_every: float = 0.5, retry_max: float = 5.0) -> None:
        super().__init__()
        self.dsn = dsn
        self.driver = driver  # publishes on its pooled connections (a new connection each was ~10 ms)
        self.retry_every = retry_every  # first wait before listening again; doubles up to retry_max
        self.retry_max = retry_max
        self._listener: Any = None
        self._lock = asyncio.Lock()
        self._relisten: asyncio.Task[None] | None = None
        self._closed = False

    async def _ready(self) -> None:
        # Listen before the first subscriber waits, so nothing sent after subscribe() is missed.
        async with self._lock:
            if self._listener is None or self._listener.is_closed():
                self._listener = await self._listen()

    async def _listen(self) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": "supportbot events"})
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._on_lost)
        return conn

    def listener_pid(self) -> int | None:
        """The server process of the listening connection (for operators and tests); None if none."""
        if self._listener is None or self._listener.is_closed():
            return None
        return int(self._listener.get_server_pid())

    def _on_lost(self, conn: Any) -> None:
        if self._closed or conn is not self._listener:
            return  # closed on purpose, or an old connection already replaced
        log.warning(
            "lost the connection listening for live events; listening again once the database answers"
        )
        if self._relisten is None or self._relisten.done():
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        delay = self.retry_every
        while not self._closed and self._queues:  # with nobody subscribed, the next subscribe() listens
            try:
                await self._ready()
            except Exception as exc:  # any failure to connect: the database is still away
                log.info("live events: the database does not answer yet (%s); trying again", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            log.warning("listening for live events again; subscribers replay what they missed")
            for conversation_id in list(self._queues):
                self.deliver_local(conversation_id, {"type": "refresh"})
            return

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        self.deliver_local(str(data.get("c")), data.get("e") or {})

    async def _send(self, conversation_id: str, event: dict[str, Any]) -> None:
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
        self._closed = True
        if self._relisten is not None:
            self._relisten.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relisten
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg wants postgresql://…, without SQLAlchemy's +driver suffix."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
