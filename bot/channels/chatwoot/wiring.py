"""What the web app adds for Chatwoot: the events route and the channel's lifetime."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from bot.channels.chatwoot.api import chatwoot_api
from bot.channels.chatwoot.channel import ChatwootChannel
from bot.channels.chatwoot.http import chatwoot_routes
from bot.service import ConversationService
from bot.settings import Settings

Job = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class ChatwootMount:
    """Routes and closers for create_app; empty when Chatwoot is not configured."""

    channel: ChatwootChannel | None = None
    routes: list[BaseRoute] = field(default_factory=list)
    on_close: list[Job] = field(default_factory=list)


def chatwoot_mount(service: ConversationService, settings: Settings) -> ChatwootMount:
    found = chatwoot_api(settings)
    if found is None or not settings.chatwoot_secret:
        return ChatwootMount()
    channel = ChatwootChannel(service, found)
    return ChatwootMount(channel, chatwoot_routes(channel, settings.chatwoot_secret), [channel.aclose])
