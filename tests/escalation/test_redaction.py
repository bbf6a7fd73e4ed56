"""Secrets in customer text become [redacted] before they are stored, logged, packed or mailed."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.analytics.export import records
from bot.analytics.stats import Filters
from bot.bootstrap import Parts
from bot.channels.slack.sink import SlackSink
from bot.engine.model import Incoming
from bot.escalation.packet import render_html, render_markdown, render_text
from bot.escalation.sinks import EmailSink, Sink, WebhookSink
from bot.escalation.worker import deliver_due
from bot.redaction import REDACTED, RedactingFilter, redact
from bot.service import PRIVACY_NOTICE
from bot.storage.schema import metadata
from tests.fakes.slack_api import BOT_TOKEN, FakeSlackAPI
from tests.support.escalation import SECRET, WebhookReceiver, body_text, mail_receiver
from tests.support.storage import running_parts

CANARY = "Zq9CANARY41ab"
ESCALATIONS = "C0ESCALATE"
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
    # Cloud and chat-service keys.
    f"aws_secret_access_key = {CANARY}/K7MDENG/bPxRfiCYEXAMPLE",
    f'{{"type": "service_account", "private_key_id": "{CANARY}0f3e", "private_key": "-----BEGIN PRIVATE'
    f' KEY-----\\nMIIEv{CANARY}\\n-----END PRIVATE KEY-----\\n"}}',
    f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={CANARY}+abc==;EndpointSuffix=core.windows.net",
    f"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={CANARY}=",
    f"github_pat_11AB{CANARY}_0123456789abcdef",
    f"glpat-{CANARY}xyz12345",
    f"sk_live_{CANARY}0000",
    f"https://hooks.slack.com/services/T0123/B0456/{CANARY}",
    f"TWILIO_AUTH_TOKEN={CANARY}",
    # Card numbers written with dots, no-break and thin spaces.
    CARD.replace(" ", "."),
    CARD.replace(" ", "\u00a0"),
    CARD.replace(" ", "\u202f"),
    # Unicode spellings of a keyword's punctuation, and a password with no keyword at all.
    f"PASSWORD\uff1a{CANARY}",
    f"pass\u200bword: {CANARY}",
    f"login jo@example.com {CANARY}9!",
]
FORMS = [
    CANARY,
    CANARY.lower(),
    CANARY.upper(),
    AUTH_PLAIN,
    CARD,
    CARD.replace(" ", ""),
    CARD.replace(" ", "."),
    CARD.replace(" ", "\u00a0"),
    CARD.replace(" ", "\u202f"),
]
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
    async with parts.driver.read() as s:
        for table in metadata.sorted_tables:
            rows.extend(r[0] for r in await s.all(f"SELECT row_to_json(t)::text FROM {table.name} t"))
    return "\n".join(rows).encode()


async def test_a_planted_canary_never_reaches_database_logs_packets_or_sinks(
    database_url: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "supportbot.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    fake_slack = FakeSlackAPI()
    try:
        async with mail_receiver() as (smtp_url, inbox), fake_slack.running():
            with WebhookReceiver() as receiver:
                sinks: dict[str, Sink] = {
                    "webhook": WebhookSink(receiver.url, SECRET),
                    "email": EmailSink(smtp_url, "support@example.com"),
                    "slack": SlackSink(AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url), ESCALATIONS),
                }
                async with running_parts(database_url, sinks=sinks) as parts:  # installs the log filter
                    svc = parts.service
                    # Every field a channel hands over is customer input: the contact details too.
                    started = await svc.start(
                        None,
                        "web",
                        {
                            "name": f"Jo pw={CANARY}",
                            "email": f"jo@example.com {CANARY}7!",
                            "note": CORPUS[-4],
                        },
                    )
                    cid = started.conversation_id
                    await svc.reply(cid, Incoming(choice="cannot_connect"))
                    turn = await svc.reply(cid, Incoming(text=f"example.com and my password is {CANARY}"))
                    assert turn.messages[0].text == PRIVACY_NOTICE
                    # A "choice" is whatever the client posts: a secret sent there is hidden too.
                    turn = await svc.reply(cid, Incoming(choice=f"token={CANARY}"))
                    assert turn.messages[0].text == PRIVACY_NOTICE
                    for line in CORPUS:
                        # A channel that logs what customers type (it shouldn't, but one day it will).
                        logging.getLogger("bot.channels.test").info("customer typed %r", line)
                    await svc.reply(cid, Incoming(text="\n".join(CORPUS)))  # all of it, in one paste
                    for line in CORPUS:
                        if (await svc.transcript(cid)).status == "escalated":
                            break
                        await svc.reply(cid, Incoming(text=line))
                    if (await svc.transcript(cid)).status != "escalated":
                        await svc.reply(cid, Incoming(text="human"))
                    await svc.claim(cid, "Alex")
                    # With an agent, both fields still go through redaction.
                    await svc.reply(cid, Incoming(text=CORPUS[-1]))
                    await svc.reply(cid, Incoming(choice=CORPUS[-3]))
                    await svc.agent_message(cid, "Alex", f"thanks, never send pw: {CANARY} again")
                    assert await deliver_due(parts.driver, sinks) == 3

                    stored = await _dump_database(parts, database_url, tmp_path)
                    transcript = await svc.transcript(cid)
                    async with parts.driver.read() as s:
                        packets = [r[0] for r in await s.all("SELECT packet FROM escalations")]
                    exported = [json.dumps(r, default=str) async for r in records(parts.driver, Filters())]
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
    slack_posts = [json.dumps(c.args) for c in fake_slack.calls] + [
        u["content"].decode("utf-8", "replace") for u in fake_slack.uploads.values()
    ]
    logged = log_file.read_text()
    assert len(mails) == 1 and len(hooks) == 1 and "customer typed" in logged
    assert fake_slack.calls_to("chat.postMessage") and len(exported) == 1

    # The canary went in (redacted) everywhere we look, so the checks below are not vacuous.
    said = [m.text for m in transcript.messages if m.role in ("user", "agent")]
    assert sum(REDACTED in t for t in said) >= 5
    assert logged.count(REDACTED) >= len(CORPUS) - 1
    assert REDACTED in mails[0] and REDACTED.encode() in hooks[0] and REDACTED.encode() in stored
    assert any(REDACTED in p for p in slack_posts) and REDACTED in exported[0]

    assert leaks(stored) == []
    assert leaks(json.dumps([m.to_json() for m in transcript.messages])) == []
    assert [leaks(r) for r in rendered] == [[]] * 4
    assert [leaks(m) for m in mails] == [[]]
    assert [leaks(h) for h in hooks] == [[]]
    assert [leaks(p) for p in slack_posts if leaks(p)] == []
    assert leaks(exported[0]) == []
    assert leaks(logged) == []
