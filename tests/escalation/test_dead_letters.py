"""Retries with backoff, dead letters after the last try, and `supportbot outbox list|retry` reviving them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bootstrap import Parts
from bot.engine.model import Incoming
from bot.escalation import outbox
from bot.escalation.outbox import Policy, backoff
from bot.escalation.sinks import WebhookSink
from bot.escalation.worker import deliver_due
from tests.support.escalation import SECRET, Answer, WebhookReceiver
from tests.support.storage import execute, running_parts, supportbot_cli, table_rows


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    for attempts in range(1, 12):
        ceiling = min(60.0, 1.0 * 2 ** (attempts - 1))
        waits = [backoff(attempts, None, base=1.0, cap=60.0) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jitter: workers that failed together don't retry together
    # Retry-After is a floor, never shortened by our own schedule.
    assert backoff(1, 45.0, base=1.0) >= 45.0
    assert backoff(9, 0.0, base=1.0, cap=60.0) >= 30.0


async def _rows(parts: Parts) -> list[dict[str, Any]]:
    return await outbox.listing(parts.driver)


async def _make_due(parts: Parts) -> None:
    """Stand in for the clock: the backoff has passed."""
    await execute(parts.driver, "UPDATE outbox SET next_attempt_at = 0.0")


async def test_failures_back_off_then_dead_letter_then_retry_from_the_cli(database_url: str) -> None:
    answers: list[Answer] = [(500, {}), (503, {}), (502, {}), (200, {})]

    def plan(n: int, _key: str | None) -> Answer:
        return answers[min(n, len(answers) - 1)]

    with WebhookReceiver(plan=plan) as receiver:
        sinks = {"webhook": WebhookSink(receiver.url, SECRET)}
        async with running_parts(database_url, sinks=sinks) as parts:
            started = await parts.service.start(None, "web")
            await parts.service.reply(started.conversation_id, Incoming(text="human"))
            policy = Policy(max_attempts=3, base_delay=5.0)

            assert await deliver_due(parts.driver, sinks, policy=policy) == 0
            [row] = await _rows(parts)
            assert (row["status"], row["attempts"]) == ("pending", 1)
            assert "500" in str(row["last_error"])
            # Not due yet: the backoff (2.5 to 5 s) keeps a second pass from hammering the receiver.
            assert await deliver_due(parts.driver, sinks, policy=policy) == 0
            assert len(receiver.deliveries) == 1

            for _ in range(2):
                await _make_due(parts)
                assert await deliver_due(parts.driver, sinks, policy=policy) == 0
            [row] = await _rows(parts)
            assert (row["status"], row["attempts"]) == ("dead", 3)
            await _make_due(parts)
            assert await deliver_due(parts.driver, sinks, policy=policy) == 0
            assert len(receiver.deliveries) == 3  # dead letters are left alone

            listed = await supportbot_cli(database_url, "outbox", "list", "--status", "dead")
            assert f"{row['id']:>6}  dead" in listed and str(row["idempotency_key"]) in listed
            assert "502" in listed
            assert "1 delivery(ies) queued again" in await supportbot_cli(database_url, "outbox", "retry")
            assert await supportbot_cli(database_url, "outbox", "list", "--status", "dead") == ""

            assert await deliver_due(parts.driver, sinks, policy=policy) == 1
            [row] = await _rows(parts)
            assert row["status"] == "delivered" and row["delivered_at"]
            keys = {d.key for d in receiver.deliveries}
            assert keys == {row["idempotency_key"]}  # every try carried the same key


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
async def test_a_refusal_that_retrying_cannot_fix_is_dead_at_once(database_url: str, status: int) -> None:
    with WebhookReceiver(plan=lambda _n, _k: (status, {})) as receiver:
        sinks = {"webhook": WebhookSink(receiver.url, SECRET)}
        async with running_parts(database_url, sinks=sinks) as parts:
            started = await parts.service.start(None, "web")
            await parts.service.reply(started.conversation_id, Incoming(text="human"))
            assert await deliver_due(parts.driver, sinks) == 0
            [row] = await _rows(parts)
            assert (row["status"], row["attempts"]) == ("dead", 1)
            assert str(status) in str(row["last_error"])


async def test_an_unconfigured_sink_waits_instead_of_failing_fast(database_url: str) -> None:
    # Rows are written for the sinks of the process that escalated; a worker without that sink waits.
    with WebhookReceiver() as receiver:
        sinks = {"webhook": WebhookSink(receiver.url, SECRET)}
        async with running_parts(database_url, sinks=sinks) as parts:
            started = await parts.service.start(None, "web")
            await parts.service.reply(started.conversation_id, Incoming(text="human"))
            assert await deliver_due(parts.driver, {}) == 0
            [row] = await table_rows(parts.driver, "outbox")
            assert row.status == "pending" and "not configured" in row.last_error
            assert receiver.deliveries == []
