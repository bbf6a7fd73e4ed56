"""Escalation floods from one address: a few new escalations announced, the rest queued unannounced."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import httpx
import pytest
from starlette.applications import Starlette

from bot.channels.web.escalationlimits import EscalationLimiter
from bot.errors import ConfigError
from bot.escalation import outbox
from bot.service.admission import ALREADY_WAITING, HELD
from bot.settings import Settings
from tests.support.redis import TEST_REDIS_URL
from tests.support.storage import running_parts
from tests.support.web import client

HOOK = "http://127.0.0.1:9/hook"  # nothing listens: deliveries stay queued, to be counted


async def conversation(c: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    r = await c.post("/api/conversations", json={})
    assert r.status_code == 201
    return r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}


async def say(c: httpx.AsyncClient, cid: str, auth: dict[str, str], words: str) -> httpx.Response:
    r = await c.post(f"/api/conversations/{cid}/messages", json={"text": words}, headers=auth)
    assert r.status_code == 200, r.text
    return r


def said(r: httpx.Response) -> list[str]:
    return [m["text"] for m in r.json()["messages"]]


async def test_one_address_looping_human_and_restart_in_five_conversations_alerts_three_times(
    make_app: Callable[..., Awaitable[Starlette]], database_url: str
) -> None:
    app = await make_app(database_url=database_url, escalation_webhook_url=HOOK)
    conversations: list[tuple[str, dict[str, str]]] = []
    async with client(app, ip="203.0.113.9") as c:
        for n in range(5):
            cid, auth = await conversation(c)
            conversations.append((cid, auth))
            first = await say(c, cid, auth, "human")
            assert first.json()["status"] == "escalated"
            if n < 3:
                assert HELD not in said(first)
            else:  # over the address's budget: told plainly, still in the queue
                assert HELD in said(first)
            for _ in range(2):
                await say(c, cid, auth, "restart")
                again = await say(c, cid, auth, "human")
                assert again.json()["status"] == "escalated"
                assert ALREADY_WAITING in said(again)  # joins its request, costs no new alert
        for cid, auth in conversations:
            seen = (await c.get(f"/api/conversations/{cid}", headers=auth)).json()
            assert seen["status"] == "escalated"  # still wanting a person
            assert [m["text"] for m in seen["messages"]].count("human") == 3  # every line kept
        # Another customer is not held by the first.
        elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.20", 50000))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://bot.test") as other:
            cid, auth = await conversation(other)
            assert HELD not in said(await say(other, cid, auth, "human"))

    async with running_parts(database_url) as parts:
        async with parts.driver.read() as s:
            rows = await s.all("SELECT conversation_id, reason FROM escalations")
        deliveries = await outbox.listing(parts.driver, limit=100)
    ours = {cid for cid, _ in conversations}
    assert len([r for r in rows if r[0] in ours]) == 5  # one per conversation: none lost
    assert len([r for r in rows if "not announced" in r[1]]) == 2  # the held ones, marked for agents
    assert len(deliveries) == 4  # three from the flooding address, one from the other


async def test_the_budget_is_shared_through_redis_and_counts_an_ipv6_64_as_one_address() -> None:
    window = 3600.0
    one, two = EscalationLimiter(2, window, TEST_REDIS_URL), EscalationLimiter(2, window, TEST_REDIS_URL)
    prefix = f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}"
    try:
        # Two processes, and a client picking a new address in its /64 for each request.
        assert await one.admit(f"{prefix}::1")
        assert await two.admit(f"{prefix}::2")
        assert not await one.admit(f"{prefix}::3")
        assert not await two.admit(f"{prefix}::4")
        assert one.limiter.shared and two.limiter.shared
    finally:
        await one.close()
        await two.close()


def test_the_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"SUPPORTBOT_ESCALATIONS_PER_ADDRESS": "5", "SUPPORTBOT_ESCALATION_WINDOW_MINUTES": "30"}
    )
    assert (settings.escalations_per_address, settings.escalation_window_minutes) == (5, 30.0)
    assert (Settings().escalations_per_address, Settings().escalation_window_minutes) == (3, 60.0)
    with pytest.raises(ConfigError, match="SUPPORTBOT_ESCALATIONS_PER_ADDRESS"):
        Settings.from_env({"SUPPORTBOT_ESCALATIONS_PER_ADDRESS": "many"})
