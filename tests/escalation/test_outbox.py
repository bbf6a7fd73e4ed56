"""The outbox: dead letters after the last try or a permanent refusal, `supportbot outbox list|retry`."""

from __future__ import annotations

from bot.engine.model import Incoming
from bot.escalation import outbox, worker
from bot.escalation.outbox import Policy
from tests.support.escalation import SECRET, Answer, WebhookReceiver
from tests.support.storage import running_parts, supportbot_cli

FAST = Policy(max_attempts=3, base_delay=0.0)  # no wait between tries: the rows are due at once


async def test_dead_letters_are_listed_and_retried(database_url: str) -> None:
    answers = {"status": 500}

    def plan(_n: int, _key: str | None) -> Answer:
        return answers["status"], {}

    with WebhookReceiver(plan=plan) as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            cid = (await parts.service.start(None, "web")).conversation_id
            await parts.service.reply(cid, Incoming(text="human"))
            for _ in range(FAST.max_attempts):
                assert await worker.deliver_due(parts.driver, parts.sinks, policy=FAST) == 0
            [row] = await outbox.listing(parts.driver)
            assert (row["status"], row["attempts"]) == ("dead", 3)
            assert row["last_error"] == "webhook answered 500"
            assert await parts.outbox_backlog() == 0
            # Dead rows are not tried again by the worker.
            assert await worker.deliver_due(parts.driver, parts.sinks, policy=FAST) == 0
            assert len(receiver.deliveries) == 3

            listed = await supportbot_cli(database_url, "outbox", "list", "--status", "dead")
            assert row["idempotency_key"] in listed and "dead" in listed and "answered 500" in listed
            assert await supportbot_cli(database_url, "outbox", "list", "--status", "pending") == ""

            answers["status"] = 200
            assert "1 delivery(ies) queued again" in await supportbot_cli(database_url, "outbox", "retry")
            [row] = await outbox.listing(parts.driver)
            assert (row["status"], row["attempts"]) == ("pending", 0)
            assert await worker.deliver_due(parts.driver, parts.sinks, policy=FAST) == 1
            [row] = await outbox.listing(parts.driver, "delivered")
            assert "delivered" in await supportbot_cli(database_url, "outbox", "list")
    keys = [d.key for d in receiver.deliveries]
    assert keys == [row["idempotency_key"]] * 4  # the same key on every try


async def test_permanent_refusal_is_dead_at_once_and_retry_by_id(database_url: str) -> None:
    with WebhookReceiver(plan=lambda _n, _k: (400, {})) as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            for _ in range(2):
                cid = (await parts.service.start(None, "web")).conversation_id
                await parts.service.reply(cid, Incoming(text="human"))
            assert await worker.deliver_due(parts.driver, parts.sinks, policy=Policy(max_attempts=8)) == 0
            rows = await outbox.listing(parts.driver, "dead")
            assert [r["attempts"] for r in rows] == [1, 1]
            assert "1 delivery(ies) queued again" in await supportbot_cli(
                database_url, "outbox", "retry", str(rows[0]["id"])
            )
            assert [r["id"] for r in await outbox.listing(parts.driver, "pending")] == [rows[0]["id"]]
    assert len(receiver.deliveries) == 2


async def test_a_sink_missing_in_this_process_waits_for_one_that_has_it(database_url: str) -> None:
    with WebhookReceiver() as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            cid = (await parts.service.start(None, "web")).conversation_id
            await parts.service.reply(cid, Incoming(text="human"))
            # A process without the webhook configured (e.g. a worker with another environment).
            assert await worker.deliver_due(parts.driver, {}, policy=FAST) == 0
            [row] = await outbox.listing(parts.driver)
            assert row["status"] == "pending" and "not configured" in row["last_error"]
    assert receiver.deliveries == []
