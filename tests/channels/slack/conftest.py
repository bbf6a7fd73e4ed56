"""Fixtures for the Slack channel: the real Bolt app in the real web app, a fake Slack Web API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import build
from bot.channels.slack import SlackChannel, slack_routes
from bot.channels.web import create_app
from bot.channels.web.wiring import slack_throttle
from bot.engine.probing import FixtureProbes
from tests.fakes.slack_api import FakeSlackAPI
from tests.support.slack import PROBES, SlackSim, SlackWorld, slack_settings


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlackAPI]:
    fake = FakeSlackAPI()
    fake.add_user("U0CUSTOMER", "Casey Customer")
    fake.add_user("U0AGENT01", "Alex Agent")
    fake.add_user("U0AGENT02", "Robin Reviewer")
    async with fake.running():
        yield fake


@pytest.fixture
async def slack(tmp_path: Path, fake_slack: FakeSlackAPI) -> AsyncIterator[SlackWorld]:
    settings = slack_settings(tmp_path, fake_slack.url)
    probes = FixtureProbes(PROBES)
    parts = await build(settings, probes=probes)
    channel = SlackChannel(parts.service, settings)
    throttle, limiter = slack_throttle(settings)
    app = create_app(
        settings,
        parts.service,
        routes=slack_routes(channel.app, signing_secret=settings.slack_signing_secret, throttle=throttle),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        try:
            yield SlackWorld(fake_slack, SlackSim(http), channel, parts, settings, probes, http)
        finally:
            await channel.aclose()
            await limiter.close()
            await parts.close()
