"""The engine with understanding: confirmations, re-asks, hidden choices, entities and skipped questions."""

from __future__ import annotations

import pytest

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Turn
from tests.support.engine import MakeEngine, WriteFlow

FLOW = """\
    id: help
    title: Help
    version: 1
    start: ask
    entities: {domain: domain, codes: codes, ip: quoted_ip, dnsbl: quoted_list}
    steps:
      ask:
        ask: What happens?
        understanding:
          direct: 0.95
          confirm: 0.2
          unclear: [it does not work, help me please, my email is broken, problem with email]
        choices:
          - id: password
            label: My password is rejected
            confirm: your password is being rejected
            synonyms: [password]
            signals: {codes: [535, 5.7.8]}
            examples: [it says my password is wrong, the login is refused, wrong credentials error]
            next: fix_password
          - id: connect
            label: It cannot connect
            synonyms: [timeout]
            signals: {codes: [0x800CCC0E]}
            examples: [sending times out, it cannot reach the server, connection keeps failing]
            next: ask_domain
          - id: size
            label: The message is too big
            hidden: true
            signals: {codes: [5.3.4]}
            examples: [my attachment will not go, the video is too large]
            next: fix_size
      ask_domain:
        ask: Which domain?
        slot: domain
        validate: domain
        skip_if_known: true
        next: fix_connect
      fix_password:
        say: Reset your password.
        next: done
      fix_connect:
        say: Use port 587 for {{ domain }}.
        next: done
      fix_size:
        say: Make it smaller.
        next: done
      done:
        end: resolved
"""


@pytest.fixture
def engine(write_flow: WriteFlow, make_engine: MakeEngine) -> Engine:
    write_flow("help", FLOW)
    return make_engine()


async def opened(engine: Engine) -> Conversation:
    conv, _ = await engine.start("c1", "help")
    return conv


async def say(engine: Engine, conv: Conversation, text: str) -> Turn:
    return await engine.handle(conv, Incoming(text=text))


def texts(turn: Turn) -> str:
    return " ".join(m.text for m in turn.messages)


async def test_a_pasted_code_routes_and_fills_the_codes_slot(engine: Engine) -> None:
    conv = await opened(engine)
    turn = await say(engine, conv, "535 5.7.8 Error: authentication failed")
    assert turn.step == "done" and "Reset your password." in texts(turn)
    assert conv.slots["codes"] == ["535", "5.7.8"]
    assert turn.missed == ()


async def test_hidden_choices_are_understood_but_never_offered(engine: Engine) -> None:
    conv, first = await engine.start("c1", "help")
    assert first.awaiting is not None and [c.id for c in first.awaiting.choices] == ["password", "connect"]
    turn = await say(engine, conv, "552 5.3.4 Message size exceeds fixed limit")
    assert "Make it smaller." in texts(turn)
    reask = await say(engine, await opened(engine), "3")
    assert reask.step == "ask"  # a number picks among the buttons shown


async def test_a_middling_guess_asks_and_yes_routes(engine: Engine) -> None:
    conv = await opened(engine)
    turn = await say(engine, conv, "hmm the login thing seems refused somehow")
    assert turn.step == "ask" and "It sounds like your password is being rejected. Is that right?" in texts(
        turn
    )
    assert turn.awaiting is not None and [(c.id, c.label) for c in turn.awaiting.choices] == [
        ("yes", "Yes"),
        ("no", "No, something else"),
    ]
    assert conv.pending is not None and conv.pending["choice"] == "password"
    restored = Conversation.load(conv.dump())  # the guess survives a save between turns
    yes = await engine.handle(restored, Incoming(choice="yes"))
    assert "Reset your password." in texts(yes) and restored.pending is None
    assert [(m["why"], m["guess"], m["text"]) for m in yes.missed] == [
        ("low_confidence", "password", "hmm the login thing seems refused somehow")
    ]


async def test_no_shows_the_options_and_is_recorded_as_a_miss(engine: Engine) -> None:
    conv = await opened(engine)
    await say(engine, conv, "hmm the login thing seems refused somehow")
    turn = await say(engine, conv, "no")
    assert turn.step == "ask" and "Sorry, I got that wrong." in texts(turn)
    assert turn.awaiting is not None and [c.id for c in turn.awaiting.choices] == ["password", "connect"]
    assert [m["why"] for m in turn.missed] == ["rejected"]
    picked = await engine.handle(conv, Incoming(choice="connect"))
    assert picked.step == "ask_domain"


async def test_something_new_instead_of_yes_or_no_is_understood_afresh(engine: Engine) -> None:
    conv = await opened(engine)
    await say(engine, conv, "hmm the login thing seems refused somehow")
    turn = await say(engine, conv, "Outlook error 0x800CCC0E when I send from jo@example.org")
    assert "Use port 587 for example.org." in texts(turn)
    assert conv.slots["domain"] == "example.org"  # named in passing: the domain question was skipped
    assert "Which domain?" not in texts(turn)
    assert [m["why"] for m in turn.missed] == ["reask"]


async def test_a_message_naming_nothing_is_asked_again_and_recorded(engine: Engine) -> None:
    conv = await opened(engine)
    turn = await say(engine, conv, "hello, my email is broken and it does not work")
    assert turn.step == "ask" and "I'm not sure I understood that." in texts(turn)
    assert [m["why"] for m in turn.missed] == ["reask"]
    assert conv.tries == 1


async def test_back_and_restart_forget_a_pending_guess(engine: Engine) -> None:
    conv = await opened(engine)
    await say(engine, conv, "hmm the login thing seems refused somehow")
    await say(engine, conv, "restart")
    assert conv.pending is None
    turn = await engine.handle(conv, Incoming(choice="yes"))
    assert turn.step == "ask"  # "yes" is no answer to "What happens?"


async def test_a_typed_domain_does_not_overwrite_an_answer(engine: Engine) -> None:
    conv = await opened(engine)
    await say(engine, conv, "timeout")
    await say(engine, conv, "example.com")
    assert conv.slots["domain"] == "example.com"
