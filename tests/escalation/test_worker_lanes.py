"""The delivery loop runs each sink's rows side by side: a stuck receiver holds only its own rows."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

from bot.bootstrap import Parts
from bot.engine.model import Incoming
from bot.escalation import outbox, worker
from bot.escalation.policy import Policy
from bot.escalation.sinks import EmailSink, Sink, WebhookSink
from tests.support.escalation import SECRET, Answer, WebhookReceiver, mail_receiver
from tests.support.storage import running_parts

ESCALATIONS = 6
GUARD = 30.0  # seconds; what the test waits for happens in well under one


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll until `check()` holds (the database and the receivers have no event to wait on)."""
    async with asyncio.timeout(GUARD):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@dataclass
class World:
    """A webhook receiver stuck until `release` is set, an SMTP inbox, and parts with escalations waiting."""

    release: threading.Event
    slow: WebhookReceiver
    inbox: list[EmailMessage]
    sinks: dict[str, Sink]
    parts: Parts


@contextlib.asynccontextmanager
async def stuck_world(database_url: str, escalations: int) -> AsyncIterator[World]:
    release = threading.Event()

    def stuck(_n: int, _key: str | None) -> Answer:
        release.wait(GUARD)  # a helpdesk that takes its time over every answer
        return 200, {}

    with WebhookReceiver(plan=stuck) as slow:
        async with mail_receiver() as (smtp_url, inbox):
            # The webhook's own timeout is long: only the worker's per-sink deadline cuts it short.
            sinks: dict[str, Sink] = {
                "webhook": WebhookSink(slow.url, SECRET, timeout=120),
                "email": EmailSink(smtp_url, "support@example.com"),
            }
            async with running_parts(database_url, sinks=sinks) as parts:
                for i in range(escalations):
                    cid = (await parts.service.start(None, "web", {"name": f"Customer {i}"})).conversation_id
                    await parts.service.reply(cid, Incoming(text="human"))
                try:
                    yield World(release, slow, inbox, sinks, parts)
                finally:
                    release.set()


async def test_a_stuck_receiver_delays_only_its_own_rows(database_url: str) -> None:
    async with stuck_world(database_url, ESCALATIONS) as w:
        release, slow, inbox, sinks, parts = w.release, w.slow, w.inbox, w.sinks, w.parts
        stop = asyncio.Event()
        policy = Policy(base_delay=0.1, max_delay=0.5, per_sink=2, sink_timeout=1.0)
        loop = asyncio.create_task(worker.run_forever(parts.driver, sinks, stop, 0.05, policy=policy))
        try:
            await until(lambda: _true(len(inbox) == ESCALATIONS))
            # Every e-mail went out while the webhook had not answered once (the receiver
            # records a request when it answers; its lock is held while it is stuck).
            assert not release.is_set() and slow.deliveries == []

            async def cut_short() -> bool:
                rows = await outbox.listing(parts.driver, limit=100)
                return any("no answer within 1 s" in str(r["last_error"]) for r in rows)

            await until(cut_short)
            release.set()  # the helpdesk wakes up: every webhook row arrives on a retry

            async def drained() -> bool:
                return await parts.outbox_backlog() == 0

            await until(drained)
        finally:
            release.set()
            stop.set()
            await loop
        rows = await outbox.listing(parts.driver, limit=100)
    assert {r["status"] for r in rows} == {"delivered"} and len(rows) == 2 * ESCALATIONS
    assert len(inbox) == ESCALATIONS
    assert len(slow.accepted_keys()) == ESCALATIONS


async def test_a_pass_delivers_each_sinks_rows_side_by_side(database_url: str) -> None:
    # deliver_due (the web process's pass on SQLite) too: the e-mails need not wait for the webhook.
    async with stuck_world(database_url, 3) as w:
        release, inbox, sinks, parts = w.release, w.inbox, w.sinks, w.parts
        policy = Policy(per_sink=4, sink_timeout=GUARD)
        one_pass = asyncio.create_task(worker.deliver_due(parts.driver, sinks, policy=policy))
        try:
            await until(lambda: _true(len(inbox) == 3))
            assert not one_pass.done()  # still waiting on the webhook
        finally:
            release.set()
        assert await one_pass == 6


async def _true(value: bool) -> bool:
    return value
