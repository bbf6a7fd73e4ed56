"""Fixtures for the Slack channel: the real Bolt app in the real web app, a fake Slack Web API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.support.slack import SlackWorld, slack_settings, slack_world


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
    async with slack_world(slack_settings(tmp_path, fake_slack.url), fake_slack) as world:
        yield world
