"""The Starlette app factory: routes, middleware, static widget files and the background loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.channels.web import agent, continuity, conversations
from bot.channels.web.assets import Assets
from bot.channels.web.bodies import WidgetConfig, office_hours_body
from bot.channels.web.context import WebContext, context
from bot.channels.web.guards import BodyLimit, Cors, SecurityHeaders, origin_allowed
from bot.channels.web.metrics import Metrics
from bot.channels.web.openapi import document
from bot.channels.web.ratelimit import RateLimits
from bot.channels.web.replies import database_errors, error, on_bot_error, on_http_exception, on_unexpected
from bot.continuity.service import Continuity
from bot.errors import BotError
from bot.service import ConversationService
from bot.settings import Settings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("bot.channels.web")

Job = Callable[[], Coroutine[Any, Any, None]]


def _version() -> str:
    try:
        return version("supportbot")
    except PackageNotFoundError:
        return "0"


async def healthz(request: Request) -> Response:
    ctx = context(request)
    if ctx.health is not None:
        try:
            await asyncio.wait_for(ctx.health(), timeout=5)
        except Exception as exc:
            log.warning("health check failed: %s", exc)
            return error(503, "The database did not answer.")
    # Redis away is no reason to stop serving: the limits are counted per process meanwhile, said here.
    body: dict[str, object] = {
        "status": "ok",
        "rate_limits": ctx.limiter.status(),
        "auth_throttle": ctx.auth.fallback.status(),
    }
    hours = ctx.settings.office_hours
    body["office_hours"] = office_hours_body(hours, datetime.now(UTC)) if hours is not None else None
    if ctx.details is not None:
        body.update(ctx.details())  # a refused flow file shows here; the old version keeps serving
        if not body.get("flows"):
            # Up but useless: customers would only see "no flow is loaded". Not ready, and why.
            body["status"] = "not_ready"
            body["reason"] = (
                f"No flow is loaded from SUPPORTBOT_FLOWS={str(ctx.settings.flows_dir)!r}; point it at the "
                "directory of flow YAML files (supportbot flows check DIR lists their problems)."
            )
            return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def metrics(request: Request) -> Response:
    ctx = context(request)
    ctx.metrics.observe_limiter(ctx.limiter.shared, ctx.limiter.failures)
    ctx.metrics.observe_auth_throttle(ctx.auth.fallback.shared, ctx.auth.fallback.failures)
    body, media_type = await ctx.metrics.render()
    return Response(body, media_type=media_type)


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def widget_config(request: Request) -> Response:
    """What the loader and the panel need to know before they show anything: is this page's origin
    allowed (so a misconfigured site shows no launcher and a console message instead of a broken
    frame), and can the bot e-mail customers."""
    ctx = context(request)
    origin = request.headers.get("origin") or request.query_params.get("origin", "")
    same = not origin or origin == f"{request.url.scheme}://{request.url.netloc}"
    allowed = same or origin_allowed(origin, ctx.settings.widget_origins)
    body: WidgetConfig = {
        "allowed": allowed,
        "mail": ctx.continuity is not None and ctx.continuity.mailer is not None,
    }
    hours = ctx.settings.office_hours
    if hours is not None:
        body["hours"] = office_hours_body(hours, datetime.now(UTC))
    if not allowed:
        body["message"] = (
            f"supportbot: this page's origin {origin} may not embed the widget; add it to "
            "SUPPORTBOT_WIDGET_ORIGINS on the bot's server (comma-separated origins)."
        )
    # Public facts about one origin; readable from any page so the loader can explain a refusal.
    return JSONResponse(
        body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store", "Vary": "Origin"}
    )


async def _asset(assets: Assets, name: str, request: Request) -> Response:
    return assets.response(request, name)


def create_app(
    settings: Settings,
    service: ConversationService,
    *,
    limits: RateLimits | None = None,
    health: Callable[[], Awaitable[None]] | None = None,
    details: Callable[[], dict[str, object]] | None = None,
    backlog: Callable[[], Awaitable[int]] | None = None,
    background: Sequence[Job] = (),
    on_close: Sequence[Job] = (),
    routes: Sequence[BaseRoute] = (),
    continuity_service: Continuity | None = None,
) -> Starlette:
    """Build the web app around `service`; `background` jobs run for the app's lifetime."""
    ctx = WebContext(
        settings=settings,
        service=service,
        metrics=Metrics(backlog),
        limits=limits or RateLimits(),
        health=health,
        details=details,
        continuity=continuity_service,
    )

    assets = Assets(STATIC)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job(), name=f"supportbot-bg-{i}") for i, job in enumerate(background)]
        try:
            yield
        finally:
            ctx.stopping.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for close in (*on_close, ctx.limiter.close, ctx.auth.close):
                with contextlib.suppress(Exception):
                    await close()
            if ctx.continuity is not None:
                await ctx.continuity.drain()

    app = Starlette(
        routes=[
            *conversations.routes,  # first: nearly every request is a customer's turn
            *continuity.routes,
            Route("/", functools.partial(_asset, assets, "demo.html"), methods=["GET", "HEAD"]),
            Route("/widget.js", functools.partial(_asset, assets, "widget.js"), methods=["GET", "HEAD"]),
            Route("/widget/config.json", widget_config, methods=["GET"]),
            Mount("/widget", routes=[Route("/{name}", assets.serve, methods=["GET", "HEAD"])], name="widget"),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *agent.routes,
            *routes,
        ],
        middleware=[
            Middleware(SecurityHeaders, origins=settings.widget_origins),
            Middleware(Cors, origins=settings.widget_origins),
            Middleware(BodyLimit),
        ],
        exception_handlers={
            HTTPException: on_http_exception,
            BotError: on_bot_error,
            **dict.fromkeys(database_errors(), on_unexpected),
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.web = ctx
    app.state.openapi = document(_version())
    return app
