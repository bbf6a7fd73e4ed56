"""What every route needs, built once per app and kept on app.state.web."""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from bot.channels.web.clientip import client_ip, client_scheme
from bot.channels.web.metrics import Metrics
from bot.channels.web.ratelimit import RateLimiter, RateLimits
from bot.channels.web.sharedthrottle import SharedAuthThrottle
from bot.continuity.service import Continuity
from bot.service import ConversationService
from bot.settings import Settings

CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass
class WebContext:
    settings: Settings
    service: ConversationService
    metrics: Metrics
    limits: RateLimits = field(default_factory=RateLimits)
    health: Callable[[], Awaitable[None]] | None = None
    details: Callable[[], dict[str, object]] | None = None  # e.g. loaded and refused flow files
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    continuity: Continuity | None = None  # contact e-mail, resume links, mail in and out
    # Open event streams per conversation in this process: a customer with none has left the page.
    present: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.limits, self.settings.redis_url)
        # Wrong admin tokens and agent keys, for every route that checks one (one global budget), in
        # the same Redis as the rate limits so that N processes don't allow N times the guesses.
        self.auth = SharedAuthThrottle(redis_url=self.settings.redis_url)

    def here(self, conversation_id: str, delta: int) -> None:
        count = self.present.get(conversation_id, 0) + delta
        if count > 0:
            self.present[conversation_id] = count
        else:
            self.present.pop(conversation_id, None)

    def ip(self, request: Request) -> str:
        return client_ip(request.scope, self.settings.trusted_proxies)

    def scheme(self, request: Request) -> str:
        return client_scheme(request.scope, self.settings.trusted_proxies)


def context(request: Request) -> WebContext:
    ctx = request.app.state.web
    assert isinstance(ctx, WebContext)
    return ctx


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None when absent or malformed."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        return None
    return token


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
