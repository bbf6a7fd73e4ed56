"""What the web channel needs from the application service (bot.service.ConversationService)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from bot.engine.model import Incoming
from bot.engine.probing import ProgressCallback


class StartedLike(Protocol):
    @property
    def conversation_id(self) -> str: ...
    @property
    def token(self) -> str: ...
    @property
    def turn(self) -> dict[str, Any]: ...


class EventsLike(Protocol):
    def subscribe(self, conversation_id: str) -> AsyncIterator[dict[str, Any]]: ...


class ServicePort(Protocol):
    """The subset of ConversationService the web routes call; nothing here knows about HTTP."""

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

    async def check_token(self, conversation_id: str, token: str) -> bool: ...

    async def transcript(self, conversation_id: str) -> dict[str, Any]: ...

    async def claim(self, conversation_id: str, agent: str) -> Any: ...

    async def agent_message(self, conversation_id: str, agent: str, text: str) -> Any: ...

    async def hand_back(
        self, conversation_id: str, agent: str, step: str | None = None
    ) -> dict[str, Any]: ...
