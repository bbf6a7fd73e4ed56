"""Builds the web app from settings with the real parts that bot.bootstrap wires."""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

from starlette.applications import Starlette

from bot.channels.web.app import create_app
from bot.channels.web.ports import ServicePort
from bot.channels.web.ratelimit import RateLimits
from bot.errors import ConfigError
from bot.settings import Settings


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def build_app(
    settings: Settings, limits: RateLimits | None = None, **overrides: Any
) -> Starlette:
    """`supportbot serve`'s app: the service from bootstrap, its health check, backlog and loops."""
    try:
        bootstrap = importlib.import_module("bot.bootstrap")
    except ImportError as exc:  # pragma: no cover - only before the storage layer exists
        raise ConfigError(f"the service layer is not installed ({exc})") from None
    parts: Any = await _maybe_await(bootstrap.build(settings, **overrides))
    service: ServicePort = getattr(parts, "service", parts)
    health = getattr(parts, "health", None) or getattr(service, "health", None)
    backlog = getattr(parts, "outbox_backlog", None) or getattr(service, "outbox_backlog", None)
    close = getattr(parts, "close", None) or getattr(parts, "aclose", None)
    background = []
    # With SQLite there is usually one process, so it delivers escalations itself.
    deliver = getattr(parts, "delivery_loop", None)
    if deliver is not None and settings.database_url.startswith("sqlite"):
        background.append(deliver)
    registry = getattr(parts, "registry", None)
    if registry is not None:  # hot reload of edited flow files (issue 7)
        from bot.flows.watch import watch_flows

        background.append(functools.partial(watch_flows, registry))
    from bot.channels.slack.wiring import slack_mount  # Slack (issue 6): empty unless configured

    slack = slack_mount(parts, settings)
    from bot.channels.web.admin.wiring import admin_mount  # analytics (issue 9): /admin, idle sweep

    admin = admin_mount(parts, settings)
    return create_app(
        settings,
        service,
        limits=limits,
        health=health,
        backlog=backlog,
        background=[*background, *slack.background, *admin.background],
        on_close=[*slack.on_close, *([close] if close is not None else [])],
        routes=[*slack.routes, *admin.routes],
    )
