"""Seeds a database for the admin page tests: varied conversations, hostile customer text, a dead letter."""

from __future__ import annotations

import dataclasses
import random
import re
import time
from pathlib import Path
from typing import Any

import httpx

from bot.analytics.abandon import sweep
from bot.bootstrap import build
from bot.channels.web.admin.session import COOKIE
from bot.engine.model import Incoming
from bot.escalation import outbox
from bot.settings import Settings
from tests.support.analytics import ScriptedProbes, add_events, missed, route
from tests.support.web import FLOWS

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
SCRIPT = "<script>alert('admin')</script>"


def admin_settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'admin.db'}", flows_dir=FLOWS, admin_token=ADMIN_TOKEN
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def seed(settings: Settings, n: int = 40) -> str:
    """Conversations along random routes, one with `<script>` typed by the customer; returns that one's id.

    The hostile conversation escalates through a webhook sink that can't be reached, and its delivery
    is marked dead, so the outbox page has a dead letter to retry.
    """
    seeded = dataclasses.replace(settings, escalation_webhook_url="http://127.0.0.1:9/hook")
    parts = await build(seeded, probes=ScriptedProbes())
    svc = parts.service
    rng = random.Random(3)
    try:
        for i in range(n):
            started = await svc.start(None, "web")
            moves, _domain = route(rng, i)
            stop = len(moves) if i % 4 else max(0, len(moves) - 1)  # every fourth customer goes quiet
            for move in moves[:stop]:
                turn = await svc.reply(started.conversation_id, move.incoming)
            if stop == len(moves) and turn.status == "resolved":
                await svc.reply(
                    started.conversation_id, Incoming(choice=rng.choice(["feedback_up", "feedback_down"]))
                )
                await svc.reply(started.conversation_id, Incoming(text=f"comment {SCRIPT}"))
        hostile = await svc.start(None, "web", customer={"name": SCRIPT})
        await svc.reply(hostile.conversation_id, Incoming(text=SCRIPT))
        await svc.reply(hostile.conversation_id, Incoming(choice="server_settings"))
        await svc.reply(hostile.conversation_id, Incoming(text="nohost-evil.example"))
        await svc.reply(hostile.conversation_id, Incoming(choice="yes"))
        await svc.reply(hostile.conversation_id, Incoming(text=f"talk to a human {SCRIPT}"))
        # The quiet customers' conversations are closed as abandoned, as the idle sweep would an hour later.
        await sweep(parts.driver, settings.idle_minutes, at=time.time() + 3600)
        # Earlier escalations were delivered; the hostile one's webhook refused it for good.
        while jobs := await outbox.lease(parts.driver, limit=100):
            for job in jobs:
                if job.packet.get("conversation") == hostile.conversation_id or job.id % 7 == 0:
                    await outbox.mark_failed(
                        parts.driver, job, f"connection refused {SCRIPT}", permanent=True
                    )
                else:
                    await outbox.mark_delivered(parts.driver, job.id)
        return hostile.conversation_id
    finally:
        await parts.close()


async def seed_missed(settings: Settings) -> list[dict[str, Any]]:
    """Turns the bot did not understand, on the first three conversations `seed` started (so no figure
    but the missed messages changes). Two more customers write the `<script>` that the service itself
    already recorded as missed at the first question for `seed`'s hostile customer. Returns the events."""
    parts = await build(settings, probes=ScriptedProbes(), sinks={})
    try:
        async with parts.service.driver.read() as s:
            a, b, c = [
                str(r[0]) for r in await s.all("SELECT id FROM conversations ORDER BY created_at, id LIMIT 3")
            ]
        items = [
            missed(a, "ask_symptom", "Outlook error 0x800CCC0E", "reask"),
            missed(b, "ask_symptom", "outlook ERROR  0x800ccc0e", "low_confidence", "cannot_connect", 0.35),
            missed(b, "ask_symptom", SCRIPT, "rejected", "server_settings", 0.6),
            missed(c, "ask_symptom", SCRIPT, "rejected", "server_settings", 0.52),
            missed(a, "ask_limit_kind", "552 5.3.4 Message size exceeds fixed limit", "reask"),
        ]
        for item in items:  # one turn each, so "last seen" orders them
            await add_events(parts.service.driver, [item])
        return items
    finally:
        await parts.close()


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign in through the form; returns the session's CSRF token as the pages show it."""
    response = await client.post("/admin/login", data={"token": ADMIN_TOKEN, "next": "/admin/outbox"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/outbox"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie
    for flag in ("HttpOnly", "SameSite=strict", "Path=/admin"):
        assert flag.lower() in cookie.lower()
    page = await client.get("/admin/outbox")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
