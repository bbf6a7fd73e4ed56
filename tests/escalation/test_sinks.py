"""Webhook and e-mail sinks against real receivers on loopback: signature, idempotency key, Retry-After."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.engine.model import Incoming
from bot.errors import DeliveryError
from bot.escalation import outbox, worker
from bot.escalation.outbox import Policy
from bot.escalation.sinks import EmailSink, WebhookSink, sign
from tests.support.escalation import SECRET, WebhookReceiver, body_text, mail_receiver
from tests.support.storage import running_parts


async def test_webhook_packet_is_signed_and_carries_its_idempotency_key(database_url: str) -> None:
    with WebhookReceiver() as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            assert list(parts.sinks) == ["webhook"]
            cid = (await parts.service.start(None, "web", {"name": "Jo"})).conversation_id
            await parts.service.reply(cid, Incoming(text="human"))
            assert await parts.outbox_backlog() == 1
            assert await worker.deliver_due(parts.driver, parts.sinks) == 1
            assert await parts.outbox_backlog() == 0
            [row] = await outbox.listing(parts.driver)
    [delivery] = receiver.deliveries
    assert delivery.signature_ok and delivery.status == 200
    assert delivery.key == row["idempotency_key"] == delivery.packet["idempotency_key"]
    assert row["status"] == "delivered" and row["attempts"] == 0
    packet = delivery.packet
    assert packet["conversation"] == cid and packet["channel"] == "web"
    assert packet["flow"]["id"] == "cant-send-email" and packet["reason"]
    assert packet["customer"] == {"name": "Jo"}
    assert [m["role"] for m in packet["transcript"]].count("user") == 1


async def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"a": 1}'
    assert sign(body, "s3cret") == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    # A receiver holding another secret refuses the packet: the signature really depends on it.
    with WebhookReceiver(secret="another-secret") as receiver:
        await WebhookSink(receiver.url, SECRET).deliver({"reason": "test"}, "esc-x")
    assert receiver.deliveries[0].signature_ok is False


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_sets_the_next_attempt(database_url: str, form: str) -> None:
    # The date is made now, not at collection, so "about two minutes from now" holds when it runs.
    in_two_minutes = datetime.now(UTC) + timedelta(seconds=125)
    retry_after = "120" if form == "seconds" else format_datetime(in_two_minutes, usegmt=True)

    def busy(_n: int, _key: str | None) -> tuple[int, dict[str, str]]:
        return 429, {"Retry-After": retry_after}

    with WebhookReceiver(plan=busy) as receiver:
        async with running_parts(
            database_url, escalation_webhook_url=receiver.url, webhook_secret=SECRET
        ) as parts:
            cid = (await parts.service.start(None, "web")).conversation_id
            await parts.service.reply(cid, Incoming(text="human"))
            before = time.time()
            fast = Policy(max_attempts=5, base_delay=0.01)
            assert await worker.deliver_due(parts.driver, parts.sinks, policy=fast) == 0
            [row] = await outbox.listing(parts.driver)
            assert row["status"] == "pending" and row["attempts"] == 1
            assert "429" in row["last_error"]
            # The receiver asked for about two minutes; our own backoff (10 ms) does not override it.
            assert row["next_attempt_at"] >= before + 110
            # Not due yet: another pass sends nothing.
            assert await worker.deliver_due(parts.driver, parts.sinks, policy=fast) == 0
    assert len(receiver.deliveries) == 1


async def test_email_sink_sends_summary_and_escaped_transcript(database_url: str) -> None:
    async with (
        mail_receiver() as (smtp_url, inbox),
        running_parts(database_url, escalation_email="support@example.com", smtp_url=smtp_url) as parts,
    ):
        assert list(parts.sinks) == ["email"]
        svc = parts.service
        cid = (await svc.start(None, "web", {"name": "Jo <b>Bloggs</b>"})).conversation_id
        await svc.reply(cid, Incoming(text="<script>alert(1)</script> I want a human"))
        assert await worker.deliver_due(parts.driver, parts.sinks) == 1
        [row] = await outbox.listing(parts.driver)
    [message] = inbox
    assert message["To"] == "support@example.com"
    assert message["Subject"].startswith("[supportbot] ")
    assert message["Idempotency-Key"] == row["idempotency_key"]
    assert row["idempotency_key"] in message["Message-ID"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "Summary:" in plain.get_content() and cid not in message["Subject"]
    assert "<script>alert(1)</script> I want a human" in plain.get_content()
    markup = html.get_content()
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "Jo &lt;b&gt;Bloggs&lt;/b&gt;" in markup
    assert "I want a human" in body_text(message)


async def test_email_sink_reports_an_unreachable_server() -> None:
    async with mail_receiver() as (smtp_url, _inbox):
        pass  # closed again: nothing listens on that port now
    sink = EmailSink(smtp_url, "support@example.com", timeout=5)
    with pytest.raises(DeliveryError) as caught:
        await sink.deliver(
            {
                "reason": "test",
                "flow": {"title": "t", "id": "f", "version": "1"},
                "summary": "s",
                "customer": {},
                "channel": "web",
                "transcript": [],
                "probes": [],
            },
            "esc-1-email",
        )
    assert not caught.value.permanent
