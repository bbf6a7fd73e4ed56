"""The engine under any sequence of messages, choices, restarts, back, human, hand-back and save/restore."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Turn
from bot.engine.probing import OfflineProbes
from bot.engine.registry import FlowRegistry
from bot.errors import InputError

FLOWS = Path(__file__).resolve().parents[2] / "flows"
REGISTRY = FlowRegistry.load_dir(FLOWS)
STATUSES = {"active", "resolved", "unresolved", "escalated", "with_agent"}
OPEN = {"escalated", "with_agent"}

# Answers that move the reference flow along, and noise that must not break it.
TEXTS = st.one_of(
    st.sampled_from(
        [
            "it times out",
            "wrong password",
            "authentication required",
            "which server",
            "outbox",
            "too big",
            "blacklisted",
            "not sure",
            "yes",
            "no",
            "example.com",
            "mail.example.org",
            "203.0.113.7",
            "40",
            "60",
            "neither",
            "it worked",
            "no reply",
            "I can't run that",
            "restart",
            "back",
            "human",
            "I want to talk to a human",
            "my password is hunter2",
        ]
    ),
    st.text(max_size=40),
)


class ConversationMachine(RuleBasedStateMachine):
    """One conversation driven by random customer moves; every state must be one the flow declares."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(REGISTRY, OfflineProbes())
        self.conv: Conversation | None = None
        self.turn: Turn | None = None

    def teardown(self) -> None:
        self.loop.close()

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def apply(self, incoming: Incoming) -> None:
        assert self.conv is not None
        was = self.conv.status
        try:
            turn = self.run(self.engine.handle(self.conv, incoming))
        except InputError:
            return  # a refused input (e.g. an unknown choice id) is an answer too, and changes nothing
        if turn.escalated:
            # At most one open escalation: a conversation already with people never escalates again.
            assert was not in OPEN, f"escalated again while {was}"
            assert self.conv.status == "escalated"
        self.turn = turn

    @initialize()
    def start(self) -> None:
        self.conv, self.turn = self.run(self.engine.start("c_machine", None, {"client_ip": "198.51.100.7"}))

    @rule(text=TEXTS)
    def say(self, text: str) -> None:
        self.apply(Incoming(text=text))

    @precondition(lambda self: self.turn is not None and self.turn.awaiting is not None)
    @rule(data=st.data())
    def click(self, data: st.DataObject) -> None:
        assert self.turn is not None and self.turn.awaiting is not None
        offered = [c.id for c in self.turn.awaiting.choices]
        choice = data.draw(st.sampled_from(offered) if offered else st.just("no-such-choice"))
        self.apply(Incoming(choice=choice))

    @rule(choice=st.sampled_from(["restart", "back", "human", "no-such-choice", ""]))
    def click_anything(self, choice: str) -> None:
        self.apply(Incoming(choice=choice))

    @precondition(lambda self: self.conv is not None and self.conv.status in OPEN)
    @rule(data=st.data())
    def agent_hands_back(self, data: st.DataObject) -> None:
        assert self.conv is not None
        flow = REGISTRY.get(self.conv.flow_id, self.conv.version)
        step = data.draw(st.one_of(st.none(), st.sampled_from(sorted(flow.steps))))
        self.turn = self.run(self.engine.resume(self.conv, step))
        assert self.conv.status != "escalated" or self.turn.escalated

    @precondition(lambda self: self.conv is not None and self.conv.status == "escalated")
    @rule()
    def agent_claims(self) -> None:
        assert self.conv is not None
        self.conv.status = "with_agent"  # what the service does on claim

    @rule()
    def save_and_restore(self) -> None:
        assert self.conv is not None
        saved = json.loads(json.dumps(self.conv.to_json()))
        restored = Conversation.from_json(saved)
        assert restored.to_json() == saved
        again = Conversation.load(restored.dump())
        assert again.to_json() == saved
        self.conv = again

    @invariant()
    def step_is_declared(self) -> None:
        if self.conv is None:
            return
        flow = REGISTRY.get(self.conv.flow_id, self.conv.version)
        assert self.conv.step in flow.steps, self.conv.step
        assert self.conv.status in STATUSES
        assert all(step in flow.steps for step in self.conv.path)
        if self.conv.status == "active" and self.turn is not None:
            # An active conversation always waits for something the customer can give.
            assert self.turn.awaiting is not None

    @invariant()
    def escalation_matches_status(self) -> None:
        if self.conv is not None and self.conv.status == "escalated":
            assert self.conv.escalation is not None


ConversationMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_conversation_machine = ConversationMachine.TestCase
