"""The support lead's admin pages, mounted at /admin by the web app."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from bot.channels.web.admin.views import Admin
from bot.engine.registry import FlowRegistry
from bot.hours import OfficeHours
from bot.storage.driver import Driver


def admin_routes(
    driver: Driver, registry: FlowRegistry, admin_token: str | None, hours: OfficeHours | None = None
) -> list[BaseRoute]:
    """One mount at /admin (the API document lists the widget API, not these pages); every page but
    sign-in and the stylesheet needs a session or the token."""
    a = Admin(driver, registry, admin_token, hours)
    return [
        Mount(
            "/admin",
            routes=[
                Route("/", a.guard(a.overview), methods=["GET"]),
                Route("/login", a.login_form, methods=["GET"]),
                Route("/login", a.login, methods=["POST"]),
                Route("/logout", a.guard(a.logout, form=True), methods=["POST"]),
                Route("/stats.json", a.guard(a.stats_json), methods=["GET"]),
                Route("/missed", a.guard(a.missed), methods=["GET"]),
                Route("/conversations", a.guard(a.conversations), methods=["GET"]),
                Route("/conversations/{conversation_id}", a.guard(a.conversation), methods=["GET"]),
                Route("/outbox", a.guard(a.outbox_page), methods=["GET"]),
                Route("/outbox/retry", a.guard(a.outbox_retry, form=True), methods=["POST"]),
                Route("/admin.css", a.stylesheet, methods=["GET"]),
            ],
        ),
    ]  # "/admin" itself: the router redirects it to "/admin/"
