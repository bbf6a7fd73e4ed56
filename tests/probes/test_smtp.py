"""The SMTP conversation itself: whole greeting first, polite verbs only, every failure its own outcome."""

from __future__ import annotations

from collections.abc import Callable

from bot.probes.certs import tls_context
from bot.probes.smtp import smtp_session
from tests.fakes.smtp_servers import ScriptedSMTP, closed_port


async def test_reads_the_whole_multiline_greeting_before_speaking(
    scripted_smtp: Callable[..., ScriptedSMTP],
) -> None:
    server = scripted_smtp(
        greeting=["220-mail.example.com hello", "220-please wait", "220 ready"], line_delay=0.2
    )
    session = await smtp_session(
        "mail.example.com", "127.0.0.1", 587, connect_port=server.port, tls_context=tls_context()
    )
    assert session.outcome == "ok"
    assert session.greeting == ["220-mail.example.com hello", "220-please wait", "220 ready"]
    assert server.early_talk == b""
    assert server.commands == ["EHLO", "QUIT"]  # no STARTTLS offered; never AUTH/MAIL/RCPT/DATA
    assert session.auth == ["LOGIN", "PLAIN"] and session.size == 52428800


async def test_554_greeting_is_its_own_outcome(scripted_smtp: Callable[..., ScriptedSMTP]) -> None:
    server = scripted_smtp(greeting=["554-go away", "554 really"])
    session = await smtp_session(
        "mail.example.com", "127.0.0.1", 25, connect_port=server.port, tls_context=tls_context()
    )
    assert (session.outcome, session.greeting_code) == ("rejected", 554)
    assert server.commands == ["QUIT"]


async def test_refused_port() -> None:
    session = await smtp_session(
        "mail.example.com", "127.0.0.1", 25, connect_port=closed_port(), tls_context=tls_context()
    )
    assert session.outcome == "refused" and session.stage == "connect"


async def test_tarpit_costs_its_timeout_once(scripted_smtp: Callable[..., ScriptedSMTP]) -> None:
    server = scripted_smtp(tarpit=0.1)  # ~3 s for the greeting, one byte at a time
    session = await smtp_session(
        "mail.example.com",
        "127.0.0.1",
        25,
        connect_port=server.port,
        tls_context=tls_context(),
        session_timeout=0.8,
    )
    assert (session.outcome, session.stage) == ("timeout", "greeting")
    assert server.commands == []


async def test_garbage_is_a_protocol_error(scripted_smtp: Callable[..., ScriptedSMTP]) -> None:
    server = scripted_smtp(greeting=["HTTP/1.1 400 Bad Request"])
    session = await smtp_session(
        "mail.example.com", "127.0.0.1", 25, connect_port=server.port, tls_context=tls_context()
    )
    assert session.outcome == "protocol"
