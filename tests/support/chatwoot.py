"""Helpers for the Chatwoot channel's tests: the world under test, and Chatwoot's side of a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.bootstrap import Parts
from bot.channels.chatwoot import ChatwootChannel
from bot.escalation.worker import deliver_due
from tests.fakes.chatwoot import SECRET, FakeChatwoot


@dataclass
class ChatwootWorld:
    fake: FakeChatwoot
    channel: ChatwootChannel
    parts: Parts
    http: httpx.AsyncClient

    async def send(self, event: dict[str, Any], token: str = SECRET) -> httpx.Response:
        """Post an event as Chatwoot's agent-bot webhook does."""
        return await self.http.post(f"/chatwoot/events?token={token}", json=event)

    async def say(self, number: int, text: str) -> dict[str, Any]:
        event = self.fake.incoming(number, text)
        response = await self.send(event)
        assert response.status_code == 202, response.text
        await self.channel.idle()
        return event

    async def pick(self, number: int, value: str) -> None:
        """Tap `value` on the last question the bot asked."""
        [*_, question] = [m for m in self.fake.bot_messages(number) if m["content_type"] == "input_select"]
        response = await self.send(self.fake.picked(number, question["id"], value))
        assert response.status_code == 202, response.text
        await self.channel.idle()

    async def deliver(self) -> int:
        """One pass of the escalation outbox, as the worker (or the web process on SQLite) does."""
        return await deliver_due(self.parts.driver, self.parts.sinks)
