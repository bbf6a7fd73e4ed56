"""A flow calling another: the call, the called flow's own variables, return, and commands inside it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Turn
from tests.support.engine import MakeEngine

WriteFlow = Callable[[str, str], Path]

MAIN = """
    id: main
    title: Main
    version: 1
    start: ask_domain
    variables:
      who: the main flow
    steps:
      ask_domain:
        ask: Your domain?
        slot: domain
        validate: domain
        next: password_help
      password_help:
        call: password-reset
        next: after
        on_unresolved: still_stuck
      after:
        say: Back in {{ who }} for {{ domain }}.
        next: ask_done
      ask_done:
        ask: All good?
        choices:
          - {id: "yes", label: "Yes", next: done}
          - {id: "no", label: "No", next: still_stuck}
      done:
        say: Bye.
        end: resolved
      still_stuck:
        escalate: The password reset did not help for {{ domain }}.
"""

RESET = """
    id: password-reset
    title: Reset a password
    version: 1
    start: intro
    inputs: [domain]
    variables:
      who: the reset flow
      panel: StackCP
    steps:
      intro:
        say: This is {{ who }}; open {{ panel }} for {{ domain }}.
        next: ask_reset
      ask_reset:
        ask: Did you reset it?
        choices:
          - {id: "yes", label: "Yes", next: ask_works}
          - {id: "no", label: "No", next: gave_up}
      ask_works:
        ask: Does it work now?
        choices:
          - {id: "yes", label: "Yes", next: worked}
          - {id: "no", label: "No", next: gave_up}
      worked:
        say: Reset done.
        end: resolved
      gave_up:
        say: OK.
        end: unresolved
"""


def texts(turn: Turn) -> list[str]:
    return [m.text for m in turn.messages]


@pytest.fixture
async def called(write_flow: WriteFlow, make_engine: MakeEngine) -> tuple[Engine, Conversation, Turn]:
    write_flow("main", MAIN)
    write_flow("password-reset", RESET)
    engine = make_engine()
    conv, _ = await engine.start("s", "main")
    turn = await engine.handle(conv, Incoming(text="example.com"))
    return engine, conv, turn


async def test_call_enters_the_other_flow_with_its_variables(called) -> None:
    _, conv, turn = called
    assert texts(turn) == ["This is the reset flow; open StackCP for example.com.", "Did you reset it?"]
    assert conv.flow_id == "password-reset" and conv.version == "1" and conv.step == "ask_reset"
    assert [(f.flow_id, f.version, f.return_to) for f in conv.stack] == [("main", "1", "password_help")]
    assert conv.path[-2:] == ["password-reset:intro", "password-reset:ask_reset"]


async def test_resolved_subflow_returns_to_next(called) -> None:
    engine, conv, _ = called
    await engine.handle(conv, Incoming(text="yes"))
    turn = await engine.handle(conv, Incoming(text="yes it works"))
    assert texts(turn) == ["Reset done.", "Back in the main flow for example.com.", "All good?"]
    assert conv.flow_id == "main" and conv.stack == [] and conv.step == "ask_done"
    assert turn.status == "active"
    turn = await engine.handle(conv, Incoming(choice="yes"))
    assert turn.status == "resolved"


async def test_unresolved_subflow_returns_to_on_unresolved(called) -> None:
    engine, conv, _ = called
    turn = await engine.handle(conv, Incoming(text="no"))
    assert turn.status == "escalated"
    assert turn.escalated is not None
    assert turn.escalated["reason"] == "The password reset did not help for example.com."
    assert turn.escalated["flow"] == "main"


async def test_back_inside_the_subflow(called) -> None:
    engine, conv, _ = called
    await engine.handle(conv, Incoming(text="yes"))
    turn = await engine.handle(conv, Incoming(text="back"))
    assert conv.step == "ask_reset" and texts(turn) == ["Did you reset it?"]


async def test_restart_inside_the_subflow_goes_to_the_start_of_the_first_flow(called) -> None:
    engine, conv, _ = called
    turn = await engine.handle(conv, Incoming(text="restart"))
    assert conv.flow_id == "main" and conv.stack == [] and conv.step == "ask_domain"
    assert conv.slots == {}
    assert texts(turn) == ["OK, let's start again.", "Your domain?"]


async def test_human_inside_the_subflow(called) -> None:
    engine, conv, _ = called
    turn = await engine.handle(conv, Incoming(text="human"))
    assert turn.status == "escalated"
    assert turn.escalated == {
        "reason": "The customer asked for a person at step ask_reset.",
        "step": "ask_reset",
        "flow": "password-reset",
    }


async def test_a_saved_conversation_inside_a_subflow_returns_correctly(called) -> None:
    engine, conv, _ = called
    restored = Conversation.from_json(json.loads(json.dumps(conv.to_json())))
    await engine.handle(restored, Incoming(choice="yes"))
    turn = await engine.handle(restored, Incoming(choice="yes"))
    assert restored.flow_id == "main" and restored.step == "ask_done"
    assert "Back in the main flow for example.com." in texts(turn)
