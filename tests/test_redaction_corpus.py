"""Redaction: the secret corpus becomes [redacted], plain sentences stay, and a planted canary goes nowhere."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine.model import Incoming
from bot.escalation import worker
from bot.redaction import REDACTED, RedactingFilter, install_log_redaction, redact
from bot.service import PRIVACY_NOTICE
from bot.storage.schema import metadata
from tests.support.escalation import SECRET, WebhookReceiver, body_text, mail_receiver
from tests.support.storage import running_parts

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "-----END RSA PRIVATE KEY-----"
)
AUTH_PLAIN = base64.b64encode(b"\0jo@example.com\0Hunter2-secret").decode()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

# (what the customer typed, the part that must not survive)
SECRETS = [
    ("my password is hunter2", "hunter2"),
    ("My password is Hunter2! can you check", "Hunter2"),
    ("pw: s3cr3t-99", "s3cr3t-99"),
    ("pass=Tr0ub4dor&3", "Tr0ub4dor&3"),
    ("password: correct horse", "correct"),
    ('password="with spaces inside"', "with spaces inside"),
    ("Password:hunter2", "hunter2"),
    ("password hunter2 doesn't work", "hunter2"),
    ("my password for the mailbox is Zebra77", "Zebra77"),
    ("the password I use is hunter2", "hunter2"),
    ("my pwd=abc123", "abc123"),
    ("the bot token is xoxb-1234567890-abcdefghijkl", "xoxb-1234567890-abcdefghijkl"),
    ("xoxp-12345678-ABCDEFGH", "xoxp-12345678-ABCDEFGH"),
    ("AKIAIOSFODNN7EXAMPLE is my access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("Authorization: Bearer abcdef123456.789xyz", "abcdef123456.789xyz"),
    (f"here is my jwt {JWT}", JWT),
    (f"my key:\n{PEM}\nthanks", "MIIEpAIBAAKCAQEA"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "b3BlbnNzaC1rZXktdjEAAAAA"),
    (f"the log says AUTH PLAIN {AUTH_PLAIN}", AUTH_PLAIN),
    ("card 4111 1111 1111 1111 exp 12/27", "4111 1111 1111 1111"),
    ("4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("5500005555555559", "5500005555555559"),
    ("api_key=sk_live_abcdefghijklmnop", "sk_live_abcdefghijklmnop"),
]

# Sentences about passwords and numbers that hide nothing.
ORDINARY = [
    "my password is wrong",
    "My password is not working",
    "the password is incorrect apparently",
    "I reset my password yesterday",
    "password for my mailbox",
    "The token expired",
    "it says invalid token",
    "my phone is 07700 900123",
    "order 1234567890123 arrived",
    "port 587 and 25 are blocked",
    "I can't send email from jo@example.com",
    "It says 535 authentication failed",
]


@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[s for _, s in SECRETS])
def test_secrets_are_redacted(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


@pytest.mark.parametrize(
    ("text", "secret"),
    [("password is: hunter2", "hunter2"), ("passwort ist geheim99", "geheim99")],
)
def test_is_followed_by_a_colon_and_other_languages_is(text: str, secret: str) -> None:  # were known gaps
    assert secret not in redact(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_are_untouched(text: str) -> None:
    assert redact(text) == text


def test_log_lines_cannot_be_forged_or_leak() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("tests.redaction.forge")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("customer said %s", "hi\r\nCRITICAL admin logged in\nmy password is hunter2")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert output.count("\n") == 1  # one record, one line
    assert "hi\\r\\nCRITICAL admin logged in\\nmy password is [redacted]" in output
    assert "hunter2" not in output


CANARY = "Canary7f3a9Zq"
CANARY_AUTH = base64.b64encode(b"\0jo@example.com\0" + CANARY.encode()).decode()
PLANTED = [
    f"my password is {CANARY}",
    f"pw: {CANARY}-2",
    f"xoxb-{CANARY}-1234567890",
    f"AUTH PLAIN {CANARY_AUTH}",
    f"my card is 4111 1111 1111 1111 and the password={CANARY}",
]
CANARIES = [CANARY, CANARY_AUTH, "4111 1111 1111 1111"]


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of the run, as a production handler on the root logger would write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # SQL statements with their parameters (SQLAlchemy's echo, and bot.storage.driver at DEBUG through the
    # root level): if a secret reached the database, it would show here too.
    sql = logging.getLogger("sqlalchemy.engine")
    sql.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        sql.setLevel(logging.WARNING)


async def test_a_planted_canary_goes_nowhere(
    database_url: str, tmp_path: Path, captured_logs: io.StringIO
) -> None:
    with WebhookReceiver() as receiver:
        async with (
            mail_receiver() as (smtp_url, inbox),
            running_parts(
                database_url,
                escalation_webhook_url=receiver.url,
                webhook_secret=SECRET,
                escalation_email="support@example.com",
                smtp_url=smtp_url,
            ) as parts,
        ):
            install_log_redaction()  # bootstrap did it for handlers present then; this one came later
            svc = parts.service
            started = await svc.start(None, "web", {"name": f"Jo password={CANARY}"})
            cid = started.conversation_id
            # A channel that logs what came in (many do, at debug level): the filter must catch it.
            channel_log = logging.getLogger("bot.channels.canary")
            turns = []
            for text in PLANTED:
                channel_log.info("customer %s wrote %r", cid, text)
                turns.append(await svc.reply(cid, Incoming(text=text)))
                if turns[-1].status == "escalated":
                    break
            # Told gently, every time something was hidden.
            assert all(t.messages[0].text == PRIVACY_NOTICE for t in turns)
            if turns[-1].status != "escalated":
                await svc.reply(cid, Incoming(text="human"))
            await svc.claim(cid, "Sam")
            await svc.reply(cid, Incoming(text=f"while you're here, token={CANARY}"))
            await svc.agent_message(cid, "Sam", f"Never mind the password {CANARY}, I'll reset it.")
            assert await worker.deliver_due(parts.db, parts.sinks) == 2

            transcript = await svc.transcript(cid)
            async with parts.db.connect() as conn:
                tables = {
                    table.name: [tuple(r) for r in (await conn.execute(select(table))).all()]
                    for table in metadata.sorted_tables
                }

    def leaks(text: str) -> list[str]:
        return [c for c in CANARIES if c in text]

    assert REDACTED in repr(transcript)
    assert leaks(repr(transcript)) == []
    assert leaks(repr(tables)) == [], "a secret reached the database"
    if database_url.startswith("sqlite"):
        # The raw file (and its write-ahead log) too, not only what SQL reads back.
        files = {path.name: path.read_bytes() for path in sorted(tmp_path.glob("supportbot.db*"))}  # noqa: ASYNC240
        assert "supportbot.db" in files
        for name, data in files.items():
            assert all(c.encode() not in data for c in CANARIES), name
    assert len(receiver.deliveries) == 1 and receiver.deliveries[0].signature_ok
    packet = receiver.deliveries[0].body.decode()
    assert REDACTED in packet and leaks(packet) == [], "a secret reached the webhook"
    [mail] = inbox
    assert REDACTED in body_text(mail) and leaks(body_text(mail)) == [], "a secret reached the e-mail"
    logs = captured_logs.getvalue()
    assert "wrote" in logs and "INSERT INTO messages" in logs  # the capture saw the run
    assert leaks(logs) == [], "a secret reached the logs"
