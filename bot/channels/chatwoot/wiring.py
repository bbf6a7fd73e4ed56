"""What the web app and the worker add for Chatwoot: the events route, the channel's lifetime, its sink."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from bot.channels.chatwoot.api import ChatwootApi
from bot.channels.chatwoot.channel import ChatwootChannel
from bot.channels.chatwoot.http import chatwoot_routes
from bot.channels.chatwoot.sink import ChatwootSink
from bot.service import ConversationService
from bot.settings import Settings

Job = Callable[[], Coroutine[Any, Any, None]]


def chatwoot_api(settings: Settings) -> ChatwootApi | None:
    if not (settings.chatwoot_url and settings.chatwoot_bot_token and settings.chatwoot_account_id):
        return None
    return ChatwootApi(settings.chatwoot_url, settings.chatwoot_bot_token, settings.chatwoot_account_id)


def chatwoot_sinks(settings: Settings) -> dict[str, ChatwootSink]:
    """The hand-over sink, when CHATWOOT_* is configured."""
    found = chatwoot_api(settings)
    return {ChatwootSink.name: ChatwootSink(found)} if found is not None else {}


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
