"""Relaying a claimed conversation: the customer's new messages, from any channel, into the agent's thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import escape, section
from bot.channels.slack.threads import Thread
from bot.service import ConversationService

# Runs a long-lived job in the background, logging its failure: SlackChannel.spawn(work, name, track=False).
Spawn = Callable[..., asyncio.Task[Any]]


class Relays:
    """Per claimed conversation: the customer's new messages, from any channel, into the agent's thread."""

    def __init__(self, service: ConversationService, client: AsyncWebClient, spawn: Spawn) -> None:
        self.service = service
        self.client = client
        self.spawn = spawn
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._ready: dict[str, asyncio.Event] = {}

    async def start(self, conversation: str, channel: str, ts: str, customer_thread: Thread | None) -> None:
        await self.stop(conversation)
        ready = asyncio.Event()
        self._ready[conversation] = ready
        self._tasks[conversation] = self.spawn(
            self._relay(conversation, channel, ts, ready), name=f"slack-relay-{conversation}", track=False
        )

    async def wait_ready(self, conversation: str, within: float = 2.0) -> None:
        """Wait for the subscription to see the claim, so no customer message slips past it."""
        ready = self._ready.get(conversation)
        if ready is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), within)

    async def stop(self, conversation: str) -> None:
        task = self._tasks.pop(conversation, None)
        self._ready.pop(conversation, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_all(self) -> None:
        for conversation in list(self._tasks):
            await self.stop(conversation)

    async def _relay(self, conversation: str, channel: str, ts: str, ready: asyncio.Event) -> None:
        async for event in self.service.events.subscribe(conversation):
            kind = event.get("type")
            if kind == "status":
                if event.get("status") == "with_agent":
                    ready.set()
                elif ready.is_set():
                    return  # handed back or closed: the bot answers again
                continue
            message = event.get("message") or {}
            if kind != "message" or message.get("role") != "user":
                continue
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=f"Customer: {message.get('text', '')}",
                blocks=[section(f":speech_balloon: *Customer:* {escape(str(message.get('text', '')))}")],
                unfurl_links=False,
                unfurl_media=False,
            )
