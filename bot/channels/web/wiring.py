"""Builds the web app from settings with the real parts that bot.bootstrap wires."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from bot import bootstrap
from bot.channels.chatwoot.wiring import chatwoot_mount
from bot.channels.slack.wiring import slack_mount
from bot.channels.web.admin.wiring import admin_mount
from bot.channels.web.app import create_app
from bot.channels.web.clientip import client_ip
from bot.channels.web.escalationlimits import EscalationLimiter
from bot.channels.web.ratelimit import RateLimiter, RateLimits
from bot.continuity.service import Continuity, MailSettings
from bot.engine.watch import flows_health, watch_flows
from bot.settings import Settings


def slack_throttle(
    settings: Settings, limits: RateLimits | None = None
) -> tuple[Callable[[Request], Awaitable[tuple[str, float]]], RateLimiter]:
    """The per-address limit the Slack events route applies first: (address, seconds to wait).

    Counted like the API's limits (in Redis for every process when REDIS_URL is set); the limiter is
    returned too, for the app to close."""
    limiter = RateLimiter(limits or RateLimits(), settings.redis_url)

    async def throttle(request: Request) -> tuple[str, float]:
        address = client_ip(request.scope, settings.trusted_proxies)
        return address, await limiter.hit("slack", address)

    return throttle, limiter


async def build_app(settings: Settings, limits: RateLimits | None = None, **overrides: Any) -> Starlette:
    """`supportbot serve`'s app: the service from bootstrap, its health check, backlog and loops."""
    gate = EscalationLimiter(
        settings.escalations_per_address, settings.escalation_window_minutes * 60, settings.redis_url
    )
    parts = await bootstrap.build(settings, escalation_gate=gate, **overrides)
    # Edited flow files are picked up while serving, without a restart (hot reload).
    background: list[Callable[[], Coroutine[Any, Any, None]]] = [
        functools.partial(watch_flows, parts.registry)
    ]
    # With SQLite there is usually one process, so it delivers escalations itself.
    if settings.database_url.startswith("sqlite"):
        background.append(parts.delivery_loop)
    # Each mount is empty unless its channel is configured (SLACK_*, CHATWOOT_* settings).
    throttle, slack_limiter = slack_throttle(settings, limits)
    slack = slack_mount(parts, settings, throttle)
    chatwoot = chatwoot_mount(parts.service, settings)
    admin = admin_mount(parts, settings)
    mail = MailSettings(
        smtp_url=settings.smtp_url,
        sender=settings.mail_from,
        public_url=settings.public_url,
        reply_address=settings.reply_address,
        inbound_secret=settings.inbound_secret,
    )  # /admin pages and the sweep that closes idle conversations
    return create_app(
        settings,
        parts.service,
        limits=limits,
        health=parts.health,
        details=functools.partial(flows_health, parts.registry),
        backlog=parts.outbox_backlog,
        background=[*background, *slack.background, *admin.background],
        on_close=[*slack.on_close, *chatwoot.on_close, slack_limiter.close, gate.close, parts.close],
        routes=[*slack.routes, *chatwoot.routes, *admin.routes],
        continuity_service=Continuity(parts.service, mail),
    )
