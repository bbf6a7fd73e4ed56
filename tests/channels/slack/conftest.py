"""Fixtures for the Slack channel: the real Bolt app in the real web app, a fake Slack Web API on loopback."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.slack import SlackChannel, slack_routes
from bot.channels.web import create_app
from bot.engine.probing import FixtureProbes, ProbeResult
from bot.settings import Settings
from tests.channels.slack.slack_support import ESCALATIONS, SlackSim
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlackAPI

ROOT = Path(__file__).resolve().parents[3]

FLOWS = ROOT / "flows"
HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click me> & more"

PROBES = {
    "smtp_25": ProbeResult(
        "smtp_25",
        "pass",
        "mail.example.com answered on port 25.",
        {"host": "mail.example.com", "banner": f"220 mail.example.com ESMTP {HOSTILE}", "port": 25},
    ),
}


@dataclass
class SlackWorld:
    fake: FakeSlackAPI
    sim: SlackSim
    channel: SlackChannel
    service: Any
    parts: Any
    settings: Settings
    probes: FixtureProbes
    http: httpx.AsyncClient


def slack_settings(tmp_path: Path, api_url: str, **changes: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'slack.db'}",
        flows_dir=FLOWS,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_escalation_channel=ESCALATIONS,
        slack_api_url=api_url,
        agent_api_key="agent-key-for-tests",
    )
    return replace(base, **changes)


async def build_parts(settings: Settings, probes: FixtureProbes) -> Any:
    """bootstrap's real parts (service on SQLite in tmp_path) with fixture probes."""
    try:
        from bot import bootstrap
    except ImportError:
        local = os.environ.get("SUPPORTBOT_SLACK_DEV_SERVICE")  # a developer's stand-in, never in CI
        if not local:
            pytest.skip("bot.bootstrap (the service layer) is not in this tree yet")
        sys.path.insert(0, local)
        from slack_scratch_service import Svc  # type: ignore[import-not-found]

        from bot.channels.slack.app import web_client
        from bot.channels.slack.sink import SlackSink
        from bot.engine.engine import Engine
        from bot.flows.registry import FlowRegistry

        sink = SlackSink(web_client(settings), str(settings.slack_escalation_channel))
        return Svc(Engine(FlowRegistry.load_dir(settings.flows_dir), probes), [sink])
    parts = bootstrap.build(settings, probes=probes)
    return await parts if inspect.isawaitable(parts) else parts


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
    parts = await build_parts(settings, probes)
    service = getattr(parts, "service", parts)
    channel = SlackChannel(service, settings)
    app = create_app(
        settings, service, routes=slack_routes(channel.app, signing_secret=settings.slack_signing_secret)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        try:
            yield SlackWorld(fake_slack, SlackSim(http), channel, service, parts, settings, probes, http)
        finally:
            await channel.aclose()
            close = getattr(parts, "aclose", None) or getattr(parts, "close", None)
            if close is not None:
                result = close()
                if inspect.isawaitable(result):
                    await result


async def deliver_escalations(world: SlackWorld) -> None:
    """Run the outbox's delivery once, as the worker (or the web process on SQLite) would."""
    db, sinks = getattr(world.parts, "db", None), getattr(world.parts, "sinks", None)
    if db is None or sinks is None:
        return  # a developer's stand-in service delivers as it escalates
    from bot.escalation.worker import deliver_due

    assert await deliver_due(db, sinks) >= 1
