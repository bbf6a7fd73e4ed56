"""Posts each Chatwoot conversation's messages in order, in the background, retrying what fails for now."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.channels.chatwoot.api import ChatwootApi
from bot.errors import DeliveryError
from bot.escalation.outbox import backoff

log = logging.getLogger("bot.channels.chatwoot")


class Outgoing:
    """One ordered queue per conversation; a message is retried with backoff (and Retry-After) until
    it is accepted, refused for good, or `attempts` tries have failed."""

    def __init__(
        self, api: ChatwootApi, *, attempts: int = 6, base_delay: float = 0.5, max_delay: float = 30.0
    ) -> None:
        self.api = api
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # Per conversation, in order: (endpoint, body), endpoint "messages" or "toggle_typing_status".
        self._queues: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}
        self._senders: dict[int, asyncio.Task[None]] = {}

    def post(self, conversation: int, messages: Sequence[Mapping[str, Any]]) -> None:
        self._enqueue(conversation, [("messages", m) for m in messages])

    def typing(self, conversation: int, on: bool) -> None:
        """Chatwoot's "typing…" under the conversation, in order with the messages around it."""
        self._enqueue(conversation, [("toggle_typing_status", {"typing_status": "on" if on else "off"})])

    def _enqueue(self, conversation: int, items: list[tuple[str, Mapping[str, Any]]]) -> None:
        if not items:
            return
        self._queues.setdefault(conversation, []).extend(items)
        if conversation not in self._senders:
            self._senders[conversation] = asyncio.create_task(
                self._drain(conversation), name=f"chatwoot-send-{conversation}"
            )

    async def _drain(self, conversation: int) -> None:
        try:
            queue = self._queues[conversation]
            while queue:
                what, body = queue.pop(0)
                if what == "messages":
                    await self._send(conversation, body)
                else:
                    await self._courtesy(conversation, what, body)
        finally:
            self._queues.pop(conversation, None)
            self._senders.pop(conversation, None)

    async def _send(self, conversation: int, message: Mapping[str, Any]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                await self.api.send(conversation, message)
                return
            except DeliveryError as exc:
                if exc.permanent or attempt == self.attempts:
                    log.error("Chatwoot message to conversation %s dropped: %s", conversation, exc)
                    return
                delay = backoff(attempt, exc.retry_after, self.base_delay, self.max_delay)
                log.warning("Chatwoot message to %s failed (%s); retrying in %.1fs", conversation, exc, delay)
                await asyncio.sleep(delay)

    async def _courtesy(self, conversation: int, what: str, body: Mapping[str, Any]) -> None:
        """Once, and never in the way: a typing indicator that did not show is no loss."""
        try:
            await self.api.call(conversation, what, body)
        except DeliveryError as exc:
            log.info("Chatwoot %s for %s failed: %s", what, conversation, exc)

    async def idle(self) -> None:
        """Wait until every queued message is sent or given up (tests, graceful shutdown)."""
        while self._senders:
            await asyncio.gather(*list(self._senders.values()), return_exceptions=True)

    async def aclose(self, grace: float = 5.0) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.idle()
        for task in list(self._senders.values()):
            task.cancel()
        await asyncio.gather(*list(self._senders.values()), return_exceptions=True)
