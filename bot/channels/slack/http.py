"""The Starlette side of Slack's HTTP mode: POST /slack/events checked, then handed to Bolt's request handler."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

EVENTS_PATH = "/slack/events"
log = logging.getLogger("bot.channels.slack")
# The web app's per-address limit for this route: (the client's address, seconds it must wait; 0 = go).
Throttle = Callable[[Request], Awaitable[tuple[str, float]]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    code = {400: "bad_request", 401: "unauthorized", 429: "rate_limited"}[status]
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def slack_routes(
    app: AsyncApp, *, signing_secret: str | None, throttle: Throttle | None = None, path: str = EVENTS_PATH
) -> list[BaseRoute]:
    """Routes to add to the web app: events, interactivity and the URL check all arrive at `path`.

    With `signing_secret`, requests are checked here first: a per-address limit before any work,
    the timestamp header's form, and the signature, each refusal logged at DEBUG only (unsigned
    requests are anyone's to send, and Bolt would log each one's body at INFO).
    """
    handler = AsyncSlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: Request) -> Response:
        address, wait = await throttle(request) if throttle is not None else ("", 0.0)
        if wait:
            log.debug("slack: too many requests from %s", address)
            seconds = str(max(1, math.ceil(wait)))
            return _error(
                429, f"Too many requests from your address; wait {seconds} s.", {"Retry-After": seconds}
            )
        if verifier is not None:
            refused = await _refusal(request, verifier)
            if refused is not None:
                log.debug("slack: refused a request from %s: %s", address, refused.status_code)
                return refused
        # Bolt checks the signature and the 5-minute timestamp window again, and answers 401 itself.
        return await handler.handle(request)

    return [Route(path, slack_events, methods=["POST"])]


async def _refusal(request: Request, verifier: SignatureVerifier) -> Response | None:
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return _error(401, "Unsigned request: X-Slack-Request-Timestamp and X-Slack-Signature are required.")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return _error(
            400,
            "X-Slack-Request-Timestamp must be the request's Unix time in whole seconds, e.g. 1700000000.",
        )
    # Starlette keeps the body it read, so Bolt's handler reads the same bytes again.
    if not verifier.is_valid(await request.body(), timestamp, signature):
        return _error(401, "The request's signature or timestamp is not valid.")
    return None
