"""The public turn object every channel shows, and the engine's plain data types."""

from __future__ import annotations

from typing import Any

from bot.engine.engine import Engine
from bot.engine.model import Awaiting, Choice, Incoming, Message, ProbeView, Turn

ROLES = {"bot", "agent", "user"}
TYPES = {"text", "probe", "handoff"}
STATUSES = {"active", "resolved", "unresolved", "escalated", "with_agent"}


def assert_turn_shape(data: dict[str, Any]) -> None:
    """The public turn object: exactly these keys, and these kinds of values."""
    assert set(data) == {"conversation", "status", "messages", "awaiting"}
    assert isinstance(data["conversation"], str) and data["conversation"]
    assert data["status"] in STATUSES
    assert isinstance(data["messages"], list)
    for message in data["messages"]:
        assert set(message) - {"probe"} == {"role", "type", "text"}
        assert message["role"] in ROLES and message["type"] in TYPES
        assert isinstance(message["text"], str)
        if message["type"] == "probe":
            assert {"id", "status", "summary"} <= set(message["probe"])
        else:
            assert "probe" not in message
    awaiting = data["awaiting"]
    if awaiting is not None:
        assert awaiting["kind"] in ("choice", "text")
        if awaiting["kind"] == "choice":
            assert set(awaiting) == {"kind", "choices"}
            assert all(set(c) == {"id", "label"} for c in awaiting["choices"])
        else:
            assert set(awaiting) == {"kind", "hint"} and isinstance(awaiting["hint"], str)


def test_turn_to_json_by_hand() -> None:
    turn = Turn(
        conversation="c_1",
        status="active",
        messages=(
            Message(role="bot", text="Checking…"),
            Message(role="bot", type="probe", text="Open.", probe=ProbeView("smtp_25", "pass", "Open.")),
        ),
        awaiting=Awaiting(kind="choice", choices=(Choice("yes", "Yes"), Choice("no", "No"))),
        step="ask",
        escalated=None,
    )
    data = turn.to_json()
    assert data == {
        "conversation": "c_1",
        "status": "active",
        "messages": [
            {"role": "bot", "type": "text", "text": "Checking…"},
            {
                "role": "bot",
                "type": "probe",
                "text": "Open.",
                "probe": {"id": "smtp_25", "status": "pass", "summary": "Open."},
            },
        ],
        "awaiting": {
            "kind": "choice",
            "choices": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}],
        },
    }
    assert_turn_shape(data)


def test_awaiting_text_and_none() -> None:
    assert Awaiting(kind="text", hint="example.com").to_json() == {"kind": "text", "hint": "example.com"}
    turn = Turn(conversation="c", status="escalated", messages=(), awaiting=None)
    assert turn.to_json()["awaiting"] is None


def test_incoming_opening() -> None:
    assert Incoming.opening().is_opening
    assert not Incoming(text="hi").is_opening and not Incoming(choice="yes").is_opening


async def test_reference_flow_turns_have_the_spec_shape(reference_engine: Engine) -> None:
    conv, turn = await reference_engine.start("c_shape")
    turns = [turn]
    for typed in ["it times out", "example.com", "yes", "no reply", "no", "human", "hello?"]:
        turns.append(await reference_engine.handle(conv, Incoming(text=typed)))
    for t in turns:
        assert_turn_shape(t.to_json())
    first = turns[0].to_json()
    assert first["conversation"] == "c_shape" and first["status"] == "active"
    assert first["awaiting"]["kind"] == "choice" and len(first["awaiting"]["choices"]) == 8
    assert turns[1].to_json()["awaiting"] == {"kind": "text", "hint": "example.com"}
    probe_types = [m["type"] for t in turns for m in t.to_json()["messages"]]
    assert "probe" in probe_types and "handoff" in probe_types
    escalated = turns[-2].to_json()
    assert escalated["status"] == "escalated" and escalated["awaiting"] is None
    assert turns[-2].escalated is not None and turns[-2].escalated["step"] == "ask_fixed_account"
