"""What the web app adds for Slack: the /slack/events route, Socket Mode, and closing the client."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from bot.channels.slack.app import SlackChannel
from bot.channels.slack.http import Throttle, slack_routes
from bot.channels.slack.socket import socket_mode_job
from bot.settings import Settings

Job = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class SlackMount:
    """Routes, lifetime jobs and closers to hand to create_app; all empty when Slack is not configured."""

    channel: SlackChannel | None = None
    routes: list[BaseRoute] = field(default_factory=list)
    background: list[Job] = field(default_factory=list)
    on_close: list[Job] = field(default_factory=list)


def slack_mount(parts: Any, settings: Settings, throttle: Throttle | None = None) -> SlackMount:
    """HTTP mode when SLACK_SIGNING_SECRET is set, Socket Mode when SLACK_APP_TOKEN is set (or both);
    `throttle` limits each address on the events route before any signature is checked."""
    if not settings.slack_bot_token or not (settings.slack_signing_secret or settings.slack_app_token):
        return SlackMount()
    channel = SlackChannel(getattr(parts, "service", parts), settings)
    # The retry loop of queued Slack posts: what a stopped process left behind goes out from here.
    mount = SlackMount(channel=channel, background=[channel.start], on_close=[channel.aclose])
    if settings.slack_signing_secret:
        mount.routes = slack_routes(
            channel.app, signing_secret=settings.slack_signing_secret, throttle=throttle
        )
    if settings.slack_app_token:
        mount.background.append(socket_mode_job(channel.app, settings.slack_app_token))
    return mount
