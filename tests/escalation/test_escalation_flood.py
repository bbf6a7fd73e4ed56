"""Asking for a person again and again: one escalation per conversation, which the repeats add to."""

from __future__ import annotations

import json

from bot.engine.model import Incoming
from bot.escalation import outbox
from tests.support.storage import running_parts


async def test_repeated_human_and_restart_add_to_the_one_escalation(database_url: str) -> None:
    async with running_parts(database_url, escalation_webhook_url="http://127.0.0.1:9/hook") as parts:
        svc = parts.service
        cid = (await svc.start(None, "web", {"name": "Jo"})).conversation_id
        assert (await svc.reply(cid, Incoming(text="human"))).status == "escalated"
        for n in range(5):
            await svc.reply(cid, Incoming(text="restart"))
            await svc.reply(cid, Incoming(text=f"still broken, attempt {n}"))
            await svc.reply(cid, Incoming(text="human"))
        other = (await svc.start(None, "web", {"name": "Sam"})).conversation_id
        await svc.reply(other, Incoming(text="human"))
        async with parts.driver.read() as s:
            rows = await s.all("SELECT conversation_id, packet FROM escalations")
        deliveries = await outbox.listing(parts.driver, limit=100)
    assert sorted(r[0] for r in rows) == sorted([cid, other])  # one each, not one per request
    assert len(deliveries) == 2  # one webhook delivery per escalation
    packet = next(r[1] for r in rows if r[0] == cid)
    packet = packet if isinstance(packet, dict) else json.loads(packet)
    # The repeats are in the escalation the agent already has.
    assert "still broken, attempt 4" in json.dumps(packet)
