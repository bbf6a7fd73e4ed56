"""What a Slack listener is given, like bolt's context: the service, the Web API client and shared helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.relays import Relays
from bot.channels.slack.replies import ReplyQueue
from bot.service import ConversationService


class SlackContext(Protocol):
    """The listeners in `customer` and `takeover` take this, not the app: `SlackChannel` is one."""

    service: ConversationService
    client: AsyncWebClient
    escalation_channel: str | None
    relays: Relays
    replies: ReplyQueue

    async def seen(self, key: str) -> bool:
        """Whether `key` was seen before, by any process (one answer per click or event)."""
        ...

    async def user_name(self, user: str | None) -> str | None:
        """A person's display name, or None when Slack can't tell."""
        ...

    def spawn(self, work: Awaitable[Any], name: str, *, track: bool = True) -> asyncio.Task[Any]:
        """Run `work` in the background; tracked jobs are waited for on shutdown."""
        ...
