"""The Starlette side of Slack's HTTP mode: POST /slack/events handed to Bolt's request handler."""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

EVENTS_PATH = "/slack/events"


def slack_routes(app: AsyncApp, path: str = EVENTS_PATH) -> list[BaseRoute]:
    """Routes to add to the web app: events, interactivity and the URL check all arrive at `path`."""
    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        # Bolt checks the signature and the 5-minute timestamp window, and answers 401 itself.
        return await handler.handle(request)

    return [Route(path, slack_events, methods=["POST"])]
