"""Redaction: the secret corpus becomes [redacted], plain sentences stay, and a planted canary goes nowhere."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.model import Incoming
from bot.escalation import worker
from bot.redaction import REDACTED, RedactingFilter, install_log_redaction, redact
from bot.service import PRIVACY_NOTICE
from bot.storage.schema import metadata
from tests.support.escalation import SECRET, WebhookReceiver, body_text, mail_receiver
from tests.support.storage import running_parts, table_rows

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
    # Cloud and chat-service keys, as they are pasted from config files and consoles.
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ('"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"', "wJalrXUtnFEMI"),
    (
        '{"private_key_id": "5f1c0a9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "type": "service_account"}',
        "5f1c0a9e8d",
    ),
    ('"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQ\\n"', "MIIEvQIBADAN"),
    (
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu"
        "Fq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
        "Eby8vdM02xNOcq",
    ),
    (
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=q2UVErCz4I6tq=",
        "q2UVErCz",
    ),
    ("https://acme.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=ZmFrZXNpZ25hdHVyZQ%3D%3D", "ZmFrZXNpZ25h"),
    ("github_pat_11ABCDEFG0abcdefghij_KLMNOPQRSTUVWXYZ0123456789abcdef", "github_pat_11ABCDEFG0"),
    ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "gho_16C7e42F292c"),
    ("glpat-xYz12_AbCdEfGhIjKlMn", "glpat-xYz12_AbCdEfGhIjKlMn"),
    ("rk_live_51HxYzAbCdEfGhIjKl", "rk_live_51HxYzAbCdEfGhIjKl"),
    ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GK"),
    (
        "post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "B00000000/XXXX",
    ),
    ("SK2a0747eba6abf96b7e3c3ff0b4530f6e with secret", "SK2a0747eba6abf96b7e3c3ff0b4530f6e"),
    ("TWILIO_AUTH_TOKEN=9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d65"),
    ("twilio auth token: 9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d65"),
    ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72"),
    # Card numbers with any common separator.
    ("4111.1111.1111.1111", "4111.1111.1111.1111"),
    ("card: 4111\u00a01111\u00a01111\u00a01111", "1111\u00a01111"),
    ("4111\u202f1111\u202f1111\u202f1111", "1111\u202f1111"),
    ("4111 - 1111 - 1111 - 1111", "1111 - 1111"),
    ("4111/1111/1111/1111", "4111/1111"),
    (
        "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11",
        "\uff11\uff11\uff11\uff11",
    ),
    # Keywords written with Unicode look-alikes: full-width colon and letters, zero-width space.
    ("PASSWORD\uff1ahunter2", "hunter2"),
    ("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44: hunter2", "hunter2"),
    ("pass\u200bword = hunter2", "hunter2"),
    # A password with no keyword, next to the address it belongs to.
    ("jo@example.com Hunter2!", "Hunter2"),
    ("login: jo@example.com / s3cr3t-pw", "s3cr3t-pw"),
    ("jo@example.com:Tr0ub4dor&3", "Tr0ub4dor"),
    ("user jo@example.com\nZebra#77", "Zebra#77"),
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
    "I can't send from jo@example.com to bob@example.org since Monday",
    "jo@example.com mail.example.com:587 times out",
    "jo@example.com: 550 5.7.1 rejected",
    "write to jo@example.com (Outlook) please",
    "the error is jo@example.com 0x800CCC0F",
    "version 2.4.1.12345 of the app",
    "192.168.100.200 and 10.0.0.1 are my addresses",
    "\uff29 \uff43\uff41\uff4e't \uff53\uff45\uff4e\uff44 \uff4d\uff41\uff49\uff4c",  # full-width letters
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


def test_hostile_input_finishes() -> None:
    # Long runs built to make the new patterns scan back and forth: identifiers around a secret word,
    # address-shaped runs, digit groups with every separator, full-width text. A hang guard: each is
    # linear (about a millisecond per 10 KB, bench/nlu.py's redaction line), not a timing target.
    attacks = [
        "a_" * 50_000 + "secret",
        "x" * 100_000 + "token=",
        "a@" * 50_000,
        "a@b." * 25_000 + " Hunter2!",
        "1." * 50_000,
        "1\u00a0" * 50_000,
        "4111 - " * 20_000,
        "password: " * 10_000,
        "\uff50\uff41\uff53\uff53\uff1a" * 20_000,
        "hooks.slack.com/" * 10_000,
        "sig=" * 25_000,
    ]
    for attack in attacks:
        assert isinstance(redact(attack), str)


CANARY = "Canary7f3a9Zq"
CANARY_AUTH = base64.b64encode(b"\0jo@example.com\0" + CANARY.encode()).decode()
PLANTED = [
    f"my password is {CANARY}",
    f"pw: {CANARY}-2",
    f"xoxb-{CANARY}-1234567890",
    f"AUTH PLAIN {CANARY_AUTH}",
    f"my card is 4111 1111 1111 1111 and the password={CANARY}",
    f"aws_secret_access_key={CANARY}/bPxRfiCY",
    f"https://hooks.slack.com/services/T0/B0/{CANARY}",
    "card 4111\u00a01111\u00a01111\u00a01111 or 4111.1111.1111.1111",
    f"PASSWORD\uff1a{CANARY}",
    f"jo@example.com {CANARY}!",
]
CANARIES = [
    CANARY,
    CANARY_AUTH,
    "4111 1111 1111 1111",
    "4111\u00a01111\u00a01111\u00a01111",
    "4111.1111.1111.1111",
]


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of the run, as a production handler on the root logger would write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # SQL statements with their parameters (bot.storage.driver logs each at DEBUG, through the root
    # level): if a secret reached the database, it would show here too.
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


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
            for n, text in enumerate(PLANTED):
                channel_log.info("customer %s wrote %r", cid, text)
                # Every other one as a "choice": clients can post anything there.
                incoming = Incoming(text=text) if n % 2 == 0 else Incoming(choice=text)
                turns.append(await svc.reply(cid, incoming))
                if turns[-1].status == "escalated":
                    break
            # Told gently, every time something was hidden.
            assert all(t.messages[0].text == PRIVACY_NOTICE for t in turns)
            if turns[-1].status != "escalated":
                await svc.reply(cid, Incoming(text="human"))
            await svc.claim(cid, "Sam")
            await svc.reply(cid, Incoming(text=f"while you're here, token={CANARY}"))
            await svc.agent_message(cid, "Sam", f"Never mind the password {CANARY}, I'll reset it.")
            assert await worker.deliver_due(parts.driver, parts.sinks) == 2

            transcript = await svc.transcript(cid)
            tables = {
                table.name: [tuple(vars(r).values()) for r in await table_rows(parts.driver, table.name)]
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
