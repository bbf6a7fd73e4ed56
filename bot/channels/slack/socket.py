"""Socket Mode: the same Bolt app over Slack's websocket, for installs without a public URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.errors import ConfigError


def socket_mode_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """A handler for `app` on Slack's websocket; it opens an HTTP session at once, so close it."""
    _check_app_token(app_token)
    return AsyncSocketModeHandler(app, app_token)


def socket_mode_job(app: AsyncApp, app_token: str) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background job for the web app's lifespan: connect, stay connected, close on cancel."""
    _check_app_token(app_token)  # a wrong token is refused at startup, not when the job first runs

    async def run() -> None:
        # Built here rather than with the job: a job that never runs leaves no session open.
        handler = socket_mode_handler(app, app_token)
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    return run


def _check_app_token(app_token: str) -> None:
    if not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope"
        )
