"""The Chatwoot channel in the real web app, talking to a fake Chatwoot on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.bootstrap import Parts
from bot.channels.chatwoot import ChatwootChannel, chatwoot_mount
from bot.channels.web import create_app
from bot.engine.probing import FixtureProbes
from bot.escalation.worker import deliver_due
from tests.fakes.chatwoot import ACCOUNT, BOT_TOKEN, SECRET, FakeChatwoot
from tests.storage.storage_support import REFERENCE_PROBES, running_parts


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
        return await deliver_due(self.parts.db, self.parts.sinks)


@pytest.fixture
async def chatwoot(database_url: str, tmp_path: Path) -> AsyncIterator[ChatwootWorld]:
    fake = FakeChatwoot()
    async with (
        fake.running(),
        running_parts(
            database_url,
            probes=FixtureProbes(REFERENCE_PROBES),
            chatwoot_url=fake.url,
            chatwoot_bot_token=BOT_TOKEN,
            chatwoot_account_id=ACCOUNT,
            chatwoot_secret=SECRET,
        ) as parts,
    ):
        mount = chatwoot_mount(parts.service, parts.settings)
        assert mount.channel is not None
        app = create_app(parts.settings, parts.service, routes=mount.routes)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            world = ChatwootWorld(fake, mount.channel, parts, http)

            async def echo(event: dict[str, Any]) -> None:
                await world.send(event)

            fake.deliver = echo
            try:
                yield world
            finally:
                await mount.channel.aclose()
