"""How Slack is switched on: settings checked, the route mounted in the web app, Socket Mode built."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import build
from bot.channels.slack.socket import socket_mode_handler
from bot.channels.slack.wiring import slack_mount
from bot.channels.web.wiring import build_app
from bot.engine.probing import FixtureProbes
from bot.errors import ConfigError
from bot.settings import Settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.support.slack import FLOWS, PROBES, SlackSim, slack_settings


def test_nothing_is_mounted_without_slack_settings() -> None:
    mount = slack_mount(object(), Settings(flows_dir=FLOWS))
    assert mount.channel is None and mount.routes == [] and mount.background == []


def test_a_bot_token_without_a_signing_secret_or_app_token_is_refused(tmp_path: Path) -> None:
    from bot.channels.slack import SlackChannel

    settings = replace(slack_settings(tmp_path, "http://127.0.0.1:9/api/"), slack_signing_secret=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackChannel(object(), settings)  # type: ignore[arg-type]


async def test_socket_mode_is_built_when_an_app_token_is_set(tmp_path: Path) -> None:
    # Offline we can only build it: connecting needs Slack's websocket (apps.connections.open).
    settings = replace(
        slack_settings(tmp_path, "http://127.0.0.1:9/api/"),
        slack_signing_secret=None,
        slack_app_token="xapp-1-A0SUPBOT-123-abc",
    )
    parts = await build(settings, probes=FixtureProbes(PROBES))
    mount = slack_mount(parts, settings)
    # Socket Mode, and the retry loop of Slack posts left queued
    assert mount.routes == [] and len(mount.background) == 2
    assert mount.channel is not None
    handler = socket_mode_handler(mount.channel.app, "xapp-1-A0SUPBOT-123-abc")
    assert handler.app is mount.channel.app
    await handler.client.close()  # type: ignore[no-untyped-call]  # slack_sdk leaves close() unannotated
    with pytest.raises(ConfigError, match="xapp-"):
        socket_mode_handler(mount.channel.app, "xoxb-not-an-app-token")
    for close in mount.on_close:
        await close()
    await parts.close()


async def test_serve_mounts_slack_events_when_the_signing_secret_is_set(
    tmp_path: Path, fake_slack: FakeSlackAPI
) -> None:
    app = await build_app(slack_settings(tmp_path, fake_slack.url), probes=FixtureProbes(PROBES))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            unsigned = await http.post("/slack/events", json={"type": "url_verification", "challenge": "x"})
            assert unsigned.status_code == 401
            sim = SlackSim(http)
            payload = await sim.dm("hi")
            await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
            assert fake_slack.calls_to("chat.postMessage")[0].args["thread_ts"] == payload["event"]["ts"]
