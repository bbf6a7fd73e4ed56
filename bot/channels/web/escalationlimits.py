"""The per-address budget of new escalations, counted like the request limits (in Redis when shared)."""

from __future__ import annotations

from bot.channels.web.ratelimit import Rate, RateLimiter, RateLimits, client_key

_KEY = "escalations-from:"  # apart from every request budget, though counted by the same limiter


class EscalationLimiter:
    """At most `per_address` new escalations from one address (an IPv6 /64) in `window` seconds.

    With REDIS_URL every process draws on one budget; without it (or while Redis is away) each
    process counts its own, as the request limits do."""

    def __init__(self, per_address: int, window: float, redis_url: str | None = None) -> None:
        rate = Rate(burst=per_address, per_second=per_address / window)
        self.limiter = RateLimiter(RateLimits(conversation_messages=rate), redis_url)

    async def admit(self, address: str) -> bool:
        # The "conversation" budget takes its key as given, so the address is grouped here.
        return not await self.limiter.hit("conversation", _KEY + client_key(address))

    async def close(self) -> None:
        await self.limiter.close()
