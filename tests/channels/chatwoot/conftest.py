"""Fixtures for the Chatwoot channel: the real web app with the channel, a fake Chatwoot on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.chatwoot import chatwoot_mount
from bot.channels.web import create_app
from bot.engine.probing import FixtureProbes
from tests.fakes.chatwoot import ACCOUNT, BOT_TOKEN, SECRET, FakeChatwoot
from tests.support.chatwoot import ChatwootWorld
from tests.support.storage import REFERENCE_PROBES, running_parts


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
