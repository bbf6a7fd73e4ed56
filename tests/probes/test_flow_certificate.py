"""The reference flow over live probes: a wrong-name certificate on loopback SMTP makes it name the matching host."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.engine.engine import Engine
from bot.engine.model import Incoming, Turn
from bot.engine.registry import FlowRegistry
from tests.fakes.smtp_servers import SMTPServer, TestPKI
from tests.support.probes import DOMAIN, World

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def _said(turn: Turn) -> str:
    return " ".join(m.text for m in turn.messages)


@pytest.fixture
def shared_hosting(
    make_world: Callable[..., World], smtp_server: Callable[..., SMTPServer], pki: TestPKI
) -> World:
    """mail.<domain> answers on 465 and 587 with the provider's certificate, as on shared hosting."""
    cert = pki.context("good", ("smtp.stackmail.com", "*.stackmail.com"))
    servers: dict[int, Any] = {
        465: smtp_server(tls=cert, implicit_tls=True, auth=True),
        587: smtp_server(tls=cert, auth=True),
    }
    return make_world(servers=servers)


async def _talk(world: World, *steps: Incoming) -> tuple[Engine, Turn]:
    engine = Engine(FlowRegistry.load_dir(FLOWS), world.probes())
    conv, turn = await engine.start("c_cert", "cant-send-email")
    for incoming in steps:
        turn = await engine.handle(conv, incoming)
    return engine, turn


async def test_port_587_advice_names_the_host_on_the_certificate(shared_hosting: World) -> None:
    _, turn = await _talk(
        shared_hosting,
        Incoming(choice="cannot_connect"),
        Incoming(text=DOMAIN),
        Incoming(choice="no"),  # no probe of port 25
        Incoming(choice="no_reply"),  # telnet test failed: use 587, probed live
    )
    said = _said(turn)
    assert turn.step == "ask_fixed_port", said
    assert "Set the outgoing (SMTP) server to smtp.stackmail.com with port 587" in said
    assert f"would refuse mail.{DOMAIN}" in said


async def test_server_name_advice_checks_the_certificate(shared_hosting: World) -> None:
    _, turn = await _talk(
        shared_hosting,
        Incoming(choice="server_settings"),
        Incoming(text=DOMAIN),
        Incoming(choice="yes"),  # look up mail.<domain>, then its certificate
    )
    said = _said(turn)
    assert turn.step == "ask_fixed_server", said
    assert "Set the outgoing (SMTP) server to smtp.stackmail.com instead" in said
    assert f"to mail.{DOMAIN}. Our guides" not in said  # never the host the mail program would refuse


async def test_matching_certificate_keeps_mail_domain_advice(world: World) -> None:
    _, turn = await _talk(
        world, Incoming(choice="server_settings"), Incoming(text=DOMAIN), Incoming(choice="yes")
    )
    said = _said(turn)
    assert turn.step == "ask_fixed_server" and f"server in your mail program to mail.{DOMAIN}" in said
