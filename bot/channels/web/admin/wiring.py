"""What the admin pages add to the web app: the /admin routes and the idle-conversation sweep."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from bot.analytics.abandon import sweep_forever
from bot.channels.web.admin import admin_routes
from bot.settings import Settings

Job = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class AdminMount:
    routes: list[BaseRoute] = field(default_factory=list)
    background: list[Job] = field(default_factory=list)


def admin_mount(parts: Any, settings: Settings) -> AdminMount:
    """Routes always (they answer "off" without a token); the sweep when there is a database to sweep."""
    driver, registry = getattr(parts, "driver", None), getattr(parts, "registry", None)
    if driver is None or registry is None:  # a stand-in service without storage (some web tests)
        return AdminMount()

    async def idle_sweep() -> None:
        await sweep_forever(driver, settings.idle_minutes)

    return AdminMount(
        routes=admin_routes(driver, registry, settings.admin_token, settings.office_hours),
        background=[idle_sweep],
    )
