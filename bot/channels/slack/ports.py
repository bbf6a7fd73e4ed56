"""What the Slack channel needs from the application service (bot.service.ConversationService)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from bot.engine.model import Incoming
from bot.engine.probing import ProgressCallback


class StartedLike(Protocol):
    @property
    def conversation_id(self) -> str: ...
    @property
    def turn(self) -> dict[str, Any]: ...


class EventsLike(Protocol):
    def subscribe(self, conversation_id: str) -> AsyncIterator[dict[str, Any]]: ...


class SlackService(Protocol):
    """The subset of ConversationService that Slack handlers call; nothing here knows about Slack."""

    @property
    def events(self) -> EventsLike: ...

    async def start(
        self,
        flow_id: str | None,
        channel: str,
        customer: dict[str, str] | None = None,
        thread_key: str | None = None,
    ) -> StartedLike: ...

    async def reply(
        self,
        conversation_id: str,
        incoming: Incoming,
        idempotency_key: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]: ...

    async def find_by_thread(self, channel: str, thread_key: str) -> str | None: ...

    async def seen_event(self, event_id: str) -> bool:
        """True when `event_id` was recorded before (a unique key, so two processes agree)."""
        ...

    async def claim(self, conversation_id: str, agent: str) -> Any: ...

    async def agent_message(self, conversation_id: str, agent: str, text: str) -> Any: ...

    async def hand_back(self, conversation_id: str, agent: str, step: str | None = None) -> dict[str, Any]: ...
