"""The Chatwoot channel: turns agent-bot events into service calls and the answers into Chatwoot messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from bot.channels.chatwoot.api import ChatwootApi
from bot.channels.chatwoot.events import CHANNEL, Event
from bot.channels.chatwoot.outgoing import Outgoing
from bot.channels.chatwoot.replies import turn_messages
from bot.engine.model import Incoming
from bot.engine.probing import ProbeResult
from bot.errors import Conflict
from bot.service import ConversationService

log = logging.getLogger("bot.channels.chatwoot")
RESUMABLE = frozenset({"escalated", "with_agent"})  # our statuses in which a person had the conversation


class ChatwootChannel:
    """Acts on events in the background (the webhook is answered at once) and posts in order."""

    def __init__(self, service: ConversationService, chatwoot: ChatwootApi, outgoing: Outgoing | None = None):
        self.service = service
        self.chatwoot = chatwoot
        self.outgoing = outgoing or Outgoing(chatwoot)
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # lock, [holders and waiters]

    def accept(self, event: Event) -> None:
        """Handle `event` in the background; its conversation's events are handled one at a time."""
        task = asyncio.create_task(self._guarded(event), name=f"chatwoot-{event.kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, event: Event) -> None:
        try:
            async with self._lock(event.thread_key):
                await self.handle(event)
        except Exception:
            log.exception("Chatwoot %s for conversation %s failed", event.kind, event.conversation)

    @contextlib.asynccontextmanager
    async def _lock(self, key: str) -> AsyncIterator[None]:
        """This conversation's lock, forgotten when nobody holds or waits for it (no lock per
        conversation ever seen kept for the life of the process)."""
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    async def handle(self, event: Event) -> None:
        if event.conversation is None:
            return  # e.g. webwidget_triggered before the customer wrote: nowhere to answer yet
        if event.kind == "conversation_status_changed":
            if event.status == "pending" and not event.assigned:
                await self._resume(event)
            return
        if event.agent_has_it:
            return  # a person has the conversation: the bot stays silent
        if event.kind == "conversation_created":
            await self._conversation(event)
        elif event.kind == "message_created" and event.incoming and event.text:
            if not await self._seen(event, "message"):
                await self._answer(event, Incoming(text=event.text))
        elif event.kind == "message_updated" and event.choice and not await self._seen(event, "answer"):
            await self._answer(event, Incoming(choice=event.choice))

    async def _seen(self, event: Event, what: str) -> bool:
        """True when this message was handled before (Chatwoot delivered it twice, or two processes)."""
        return await self.service.seen_event(f"chatwoot:{event.account}:{what}:{event.message}")

    async def _conversation(self, event: Event) -> str:
        """Our conversation for this Chatwoot one; started (and greeted) when there is none yet."""
        found = await self.service.find_by_thread(CHANNEL, event.thread_key)
        if found is not None:
            return found
        try:
            started = await self.service.start(
                None, CHANNEL, customer=event.customer(), thread_key=event.thread_key
            )
        except Conflict:  # another process started it a moment ago
            again = await self.service.find_by_thread(CHANNEL, event.thread_key)
            assert again is not None
            return again
        self.post(event, turn_messages(started.turn))
        return started.conversation_id

    async def _answer(self, event: Event, incoming: Incoming) -> None:
        conversation = await self._conversation(event)
        number = event.conversation
        assert number is not None
        checking = False

        async def progress(result: ProbeResult) -> None:
            # Checks take seconds: Chatwoot shows "typing…" meanwhile. The findings themselves are
            # posted with the turn, after the step's own "Checking …" line, so they read in order.
            nonlocal checking
            if not checking:
                checking = True
                self.outgoing.typing(number, True)

        turn = await self.service.reply(
            conversation,
            incoming,
            idempotency_key=f"chatwoot:{event.account}:{event.message}:{event.kind}",
            progress=progress,
        )
        self.post(event, turn_messages(turn))
        if checking:
            self.outgoing.typing(number, False)

    async def _resume(self, event: Event) -> None:
        conversation = await self.service.find_by_thread(CHANNEL, event.thread_key)
        if conversation is None or (await self.service.state(conversation)).status not in RESUMABLE:
            return
        self.post(event, turn_messages(await self.service.hand_back(conversation, "Chatwoot agent")))

    def post(self, event: Event, messages: list[dict[str, Any]]) -> None:
        assert event.conversation is not None
        self.outgoing.post(event.conversation, messages)

    async def idle(self) -> None:
        """Wait until every event in hand is handled and its messages are sent (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.outgoing.idle()

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.outgoing.aclose()
