"""A hand-over is written with its turn: one statement on PostgreSQL, the same rows on both databases."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from bot.engine.model import Incoming
from bot.service import ConversationService
from tests.support.escalation import SECRET, WebhookReceiver
from tests.support.storage import running_parts, table_rows

DRIVER_LOG = "bot.storage.driver"  # at DEBUG it logs every statement the process sends


def _statements(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The first word of each statement logged, leaving out live-event notices (pg_notify)."""
    said = [r.getMessage() for r in caplog.records if r.name == DRIVER_LOG]
    return [m.split(" ", 1)[0] for m in said if "pg_notify" not in m]


@contextlib.asynccontextmanager
async def started(database_url: str) -> AsyncIterator[tuple[ConversationService, str]]:
    """The service with a webhook sink (a real receiver), and a conversation started on it."""
    with WebhookReceiver() as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            yield parts.service, (await parts.service.start(None, "web")).conversation_id


async def test_an_escalating_turn_stores_its_packet_deliveries_and_a_join(database_url: str) -> None:
    async with started(database_url) as (svc, cid):
        await svc.reply(cid, Incoming(text="it says my password is wrong"))
        turn = await svc.reply(cid, Incoming(text="human"))
        assert turn.status == "escalated"
        [escalation] = await table_rows(svc.driver, "escalations", "WHERE conversation_id = $1", cid)
        # The packet's transcript is the whole conversation, this turn's lines included, as stored.
        stored = [
            {k: v for k, v in vars(m).items() if k not in ("id", "conversation_id", "created_at")}
            for m in await table_rows(svc.driver, "messages", "WHERE conversation_id = $1", cid)
        ]
        said = [(m["role"], m["text"]) for m in escalation.packet["transcript"]]
        assert said == [(m["role"], m["text"]) for m in stored]
        assert ("user", "human") in said and said[-1][0] == "bot"
        [queued] = await table_rows(svc.driver, "outbox", "WHERE escalation_id = $1", escalation.id)
        assert (queued.sink, queued.status) == ("webhook", "pending")
        assert queued.idempotency_key == f"esc-{escalation.id}-webhook"

        # Asking again (after starting over) adds to that escalation: a longer packet, nothing new
        # for the sinks.
        await svc.reply(cid, Incoming(text="restart"))
        again = await svc.reply(cid, Incoming(text="human please"))
        assert again.status == "escalated"
        [joined] = await table_rows(svc.driver, "escalations", "WHERE conversation_id = $1", cid)
        assert joined.id == escalation.id
        assert len(joined.packet["transcript"]) > len(escalation.packet["transcript"])
        assert ("user", "human please") in [(m["role"], m["text"]) for m in joined.packet["transcript"]]
        assert len(await table_rows(svc.driver, "outbox")) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_an_escalating_turn_writes_in_one_statement(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(database_url) as (svc, cid):
        caplog.set_level(logging.DEBUG, logger=DRIVER_LOG)
        turn = await svc.reply(cid, Incoming(text="human"))
        assert turn.status == "escalated"
        # Reads: the row, then the escalation to join with the transcript; then one write with the
        # escalation and its deliveries in it (it was a transaction of five writes).
        assert _statements(caplog) == ["SELECT", "SELECT", "WITH"]
        [escalation] = await table_rows(svc.driver, "escalations")
        [queued] = await table_rows(svc.driver, "outbox")
        assert queued.escalation_id == escalation.id
