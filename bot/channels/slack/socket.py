"""Socket Mode: the same Bolt app over Slack's websocket, for installs without a public URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.errors import ConfigError


def socket_mode_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    if not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope"
        )
    return AsyncSocketModeHandler(app, app_token)


def socket_mode_job(app: AsyncApp, app_token: str) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background job for the web app's lifespan: connect, stay connected, close on cancel."""
    handler = socket_mode_handler(app, app_token)

    async def run() -> None:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    return run
