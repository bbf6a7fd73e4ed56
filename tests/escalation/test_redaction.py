"""Secrets in customer text become [redacted] before they are stored, logged, packed or mailed."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import Parts
from bot.engine.model import Incoming
from bot.escalation.packet import render_html, render_markdown, render_text
from bot.escalation.sinks import EmailSink, Sink, WebhookSink
from bot.escalation.worker import deliver_due
from bot.redaction import REDACTED, RedactingFilter, redact
from bot.service import PRIVACY_NOTICE
from bot.storage.schema import metadata
from tests.support.escalation import SECRET, WebhookReceiver, body_text, mail_receiver
from tests.support.storage import running_parts

CANARY = "Zq9CANARY41ab"
AUTH_PLAIN = base64.b64encode(f"\0jo@example.com\0{CANARY}".encode()).decode()
CARD = "4111 1111 1111 1111"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\nMIIEow{CANARY}IBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
# Each line hides the canary the way a customer might paste it.
CORPUS = [
    f"my password is {CANARY}",
    f"pw: {CANARY}",
    f"pass={CANARY}",
    f"Password - {CANARY}",
    f"the password I use is {CANARY}",
    f"passwort: {CANARY}",
    f"here is my slack token xoxb-1111-2222-{CANARY}",
    f"AKIA{CANARY.upper()}000 is the key",
    f"Authorization: Bearer {CANARY}.abc",
    f"eyJhbGciOiJIUzI1NiJ9.eyJ{CANARY}.sig{CANARY}",
    f"it printed AUTH PLAIN {AUTH_PLAIN} then 535",
    f"the log shows {AUTH_PLAIN}",
    f"smtp://jo:{CANARY}@mail.example.com:587",
    PEM,
    f"pay with {CARD} please",
]
FORMS = [CANARY, CANARY.lower(), CANARY.upper(), AUTH_PLAIN, CARD, CARD.replace(" ", "")]
# Ordinary support talk that must reach the agent untouched.
KEPT = [
    "my password is wrong",
    "It says my username or password is wrong",
    "password for my mailbox",
    "I tried port 587 and 25",
    "my IP is 203.0.113.7",
    "550 5.7.1 Service unavailable; client host [203.0.113.7] blocked using zen.spamhaus.org",
    "220 mail.example.com ESMTP ready",
    "order 1234567890123, call 0123 456 7890",
    "the token expired yesterday",
    "SGVsbG8gd29ybGQgaG93IGFyZSB5b3U=",
]


def leaks(blob: str | bytes) -> list[str]:
    if isinstance(blob, bytes):
        blob = blob.decode("utf-8", "replace")
    low = blob.lower()
    return [form for form in FORMS if form.lower() in low]


@pytest.mark.parametrize("line", CORPUS)
def test_each_secret_form_is_redacted(line: str) -> None:
    cleaned = redact(line)
    assert REDACTED in cleaned
    assert leaks(cleaned) == []


@pytest.mark.parametrize("line", KEPT)
def test_ordinary_support_talk_is_kept(line: str) -> None:
    assert redact(line) == line


def test_log_lines_are_redacted_and_cannot_be_forged() -> None:
    record = logging.LogRecord(
        "bot", logging.INFO, __file__, 1, "customer said %s", (f"hi\r\n2026-01-01 ERROR pw: {CANARY}",), None
    )
    assert RedactingFilter().filter(record)
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line
    assert "\\r\\n2026-01-01 ERROR" in line and leaks(line) == []


def _sqlite_files(folder: Path) -> bytes:
    files = sorted(folder.glob("*.db*"))  # the database, its WAL and shared-memory files
    assert files
    return b"".join(f.read_bytes() for f in files)


async def _dump_database(parts: Parts, database_url: str, tmp_path: Path) -> bytes:
    """Everything stored: the SQLite files byte for byte, or every PostgreSQL row as JSON."""
    if database_url.startswith("sqlite"):
        return _sqlite_files(tmp_path)
    rows: list[str] = []
    async with parts.db.connect() as conn:
        for table in metadata.sorted_tables:
            result = await conn.execute(text(f"SELECT row_to_json(t)::text FROM {table.name} t"))
            rows.extend(r[0] for r in result)
    return "\n".join(rows).encode()


async def test_a_planted_canary_never_reaches_database_logs_packets_or_mail(
    database_url: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "supportbot.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        async with mail_receiver() as (smtp_url, inbox):
            with WebhookReceiver() as receiver:
                sinks: dict[str, Sink] = {
                    "webhook": WebhookSink(receiver.url, SECRET),
                    "email": EmailSink(smtp_url, "support@example.com"),
                }
                async with running_parts(database_url, sinks=sinks) as parts:  # installs the log filter
                    svc = parts.service
                    started = await svc.start(
                        None, "web", {"name": f"Jo pw={CANARY}", "email": "jo@example.com"}
                    )
                    cid = started.conversation_id
                    await svc.reply(cid, Incoming(choice="cannot_connect"))
                    turn = await svc.reply(cid, Incoming(text=f"example.com and my password is {CANARY}"))
                    assert turn["messages"][0]["text"] == PRIVACY_NOTICE
                    for line in CORPUS:
                        # A channel that logs what customers type (it shouldn't, but one day it will).
                        logging.getLogger("bot.channels.test").info("customer typed %r", line)
                    await svc.reply(cid, Incoming(text="\n".join(CORPUS)))  # all of it, in one paste
                    for line in CORPUS:
                        if (await svc.transcript(cid))["status"] == "escalated":
                            break
                        await svc.reply(cid, Incoming(text=line))
                    if (await svc.transcript(cid))["status"] != "escalated":
                        await svc.reply(cid, Incoming(text="human"))
                    await svc.claim(cid, "Alex")
                    await svc.reply(cid, Incoming(text=CORPUS[-1]))
                    await svc.agent_message(cid, "Alex", f"thanks, never send pw: {CANARY} again")
                    assert await deliver_due(parts.db, sinks) == 2

                    stored = await _dump_database(parts, database_url, tmp_path)
                    transcript = await svc.transcript(cid)
                    async with parts.db.connect() as conn:
                        packets = [r[0] for r in await conn.execute(text("SELECT packet FROM escalations"))]
        for handler_ in root.handlers:
            handler_.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    assert len(packets) == 1
    packet = packets[0] if isinstance(packets[0], dict) else json.loads(packets[0])
    assert REDACTED in json.dumps(packet)
    rendered = [json.dumps(packet), render_markdown(packet), render_html(packet), render_text(packet)]
    mails = [body_text(m) for m in inbox]
    hooks = [d.body for d in receiver.deliveries]
    logged = log_file.read_text()
    assert len(mails) == 1 and len(hooks) == 1 and "customer typed" in logged

    # The canary went in (redacted) everywhere we look, so the checks below are not vacuous.
    said = [m["text"] for m in transcript["messages"] if m["role"] in ("user", "agent")]
    assert sum(REDACTED in t for t in said) >= 5
    assert logged.count(REDACTED) >= len(CORPUS) - 1
    assert REDACTED in mails[0] and REDACTED.encode() in hooks[0] and REDACTED.encode() in stored

    assert leaks(stored) == []
    assert leaks(json.dumps(transcript)) == []
    assert [leaks(r) for r in rendered] == [[]] * 4
    assert [leaks(m) for m in mails] == [[]]
    assert [leaks(h) for h in hooks] == [[]]
    assert leaks(logged) == []
