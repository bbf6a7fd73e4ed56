"""The engine walking small flows: answers, re-asks, global commands, templates, state and versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine import engine as engine_module
from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Turn
from bot.errors import FlowNotFound, InputError
from tests.support.engine import MakeEngine

WriteFlow = Callable[[str, str], Path]

COLOURS = """
    id: colours
    title: Colours
    version: 1
    start: hello
    variables:
      host: smtp.example.net
      limit: 50
    steps:
      hello:
        say: Hello from {{ host }}.
        next: pick
      pick:
        ask: Which colour?
        choices:
          - {id: red, label: Red, synonyms: [crimson, scarlet], next: ask_size}
          - {id: blue, label: Sky blue, next: ask_size}
          - {id: green, label: Green, set: {shade: leafy}, next: shade_says}
      shade_says:
        say: Your shade is {{ shade }}.
        next: ask_size
      ask_size:
        ask: How many MB?
        slot: size
        validate: number
        hint: for example 40
        next: size_branch
      size_branch:
        branch:
          - if: size > limit
            next: too_big
          - else: fine
      too_big:
        say: "{{ size }} MB is over {{ limit }} MB."
        next: ask_done
      fine:
        say: "{{ size }} MB is fine."
        next: ask_done
      ask_done:
        ask: Did that help?
        choices:
          - {id: "yes", label: "Yes", next: done}
          - {id: "no", label: "No", next: failed}
      done:
        say: Bye.
        end: resolved
      failed:
        say: Sorry.
        end: unresolved
"""


async def say(engine: Engine, conv: Conversation, text: str) -> Turn:
    return await engine.handle(conv, Incoming(text=text))


async def pick(engine: Engine, conv: Conversation, choice: str) -> Turn:
    return await engine.handle(conv, Incoming(choice=choice))


def texts(turn: Turn) -> str:
    return "\n".join(m.text for m in turn.messages)


@pytest.fixture
async def colours(write_flow: WriteFlow, make_engine: MakeEngine) -> tuple[Engine, Conversation, Turn]:
    write_flow("colours", COLOURS)
    engine = make_engine()
    conv, turn = await engine.start("c1", "colours")
    return engine, conv, turn


# -- opening and choices -----------------------------------------------------------------------------


async def test_opening_turn_says_and_asks_with_variables_filled(colours) -> None:
    _, conv, turn = colours
    assert [m.text for m in turn.messages] == ["Hello from smtp.example.net.", "Which colour?"]
    assert turn.status == "active" and turn.step == "pick" and conv.step == "pick"
    assert turn.awaiting is not None and turn.awaiting.kind == "choice"
    assert [(c.id, c.label) for c in turn.awaiting.choices] == [
        ("red", "Red"),
        ("blue", "Sky blue"),
        ("green", "Green"),
    ]
    assert turn.user_message is None
    assert conv.flow_id == "colours" and conv.version == "1"


@pytest.mark.parametrize(
    ("incoming", "recorded"),
    [
        (Incoming(choice="blue"), "Sky blue"),  # a click: the label is recorded
        (Incoming(text="2"), "2"),  # the option number
        (Incoming(text="sky BLUE"), "sky BLUE"),  # the label, any case
        (Incoming(text="blue"), "blue"),  # the id
    ],
)
async def test_choice_by_id_number_or_label(colours, incoming: Incoming, recorded: str) -> None:
    engine, conv, _ = colours
    turn = await engine.handle(conv, incoming)
    assert turn.step == "ask_size"
    assert conv.asked == ["pick"]
    assert turn.user_message is not None and turn.user_message.role == "user"
    assert turn.user_message.text == recorded


@pytest.mark.parametrize("typed", ["scarlet", "I'd say crimson", "redd", "skarlet"])
async def test_choice_by_synonym_sentence_or_typo(colours, typed: str) -> None:
    engine, conv, _ = colours
    turn = await say(engine, conv, typed)
    assert turn.step == "ask_size", texts(turn)


async def test_choice_sets_slots(colours) -> None:
    engine, conv, _ = colours
    turn = await say(engine, conv, "green")
    assert conv.slots["shade"] == "leafy"
    assert "Your shade is leafy." in texts(turn)


async def test_no_match_reasks_with_the_numbered_options(colours) -> None:
    engine, conv, _ = colours
    turn = await say(engine, conv, "purple elephants")
    assert turn.status == "active" and turn.step == "pick"
    assert texts(turn) == "That isn't one of the options. Please pick one: 1. Red; 2. Sky blue; 3. Green."
    assert turn.awaiting is not None and [c.id for c in turn.awaiting.choices] == ["red", "blue", "green"]
    assert conv.tries == 1


async def test_unknown_choice_id_is_reasked_not_crashed(colours) -> None:
    engine, conv, _ = colours
    turn = await pick(engine, conv, "purple")
    assert turn.step == "pick" and turn.status == "active"
    assert "isn't one of the options" in texts(turn)


async def test_no_match_cap_without_on_invalid_escalates(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "one")
    await say(engine, conv, "two")
    turn = await say(engine, conv, "three")
    assert turn.status == "escalated" and conv.status == "escalated"
    assert turn.escalated == {
        "reason": "The customer's answers at step pick weren't understood.",
        "step": "pick",
        "flow": "colours",
    }
    assert turn.awaiting is None
    assert [m.type for m in turn.messages] == ["handoff"]


async def test_a_good_answer_resets_the_tries(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "one")
    await say(engine, conv, "two")
    await say(engine, conv, "red")
    assert conv.tries == 0
    await say(engine, conv, "lots")
    await say(engine, conv, "many")
    assert conv.status == "active" and conv.step == "ask_size"


# -- typed answers into slots, branch, templates -------------------------------------------------------


async def test_typed_number_branches_over_a_variable(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    turn = await say(engine, conv, "about 60 MB")
    assert conv.slots["size"] == 60
    assert "60 MB is over 50 MB." in texts(turn)
    assert turn.step == "ask_done"


async def test_decimal_comma_number_takes_the_else_arm(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    turn = await say(engine, conv, "2,5")
    assert conv.slots["size"] == 2.5
    assert "2.5 MB is fine." in texts(turn)


async def test_invalid_number_reasks_with_the_validator_message_and_hint(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    turn = await say(engine, conv, "lots")
    assert texts(turn) == "Please answer with a number, e.g. 25. for example 40"
    assert turn.awaiting is not None and turn.awaiting.kind == "text"
    assert turn.awaiting.hint == "for example 40"
    assert "size" not in conv.slots


async def test_end_resolved_and_unresolved_then_feedback(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    await say(engine, conv, "10")
    turn = await say(engine, conv, "no it didn't")
    assert turn.status == "unresolved" and conv.step == "failed"
    assert "Sorry." in texts(turn)
    assert turn.awaiting is not None and [c.id for c in turn.awaiting.choices] == [
        "feedback_up",
        "feedback_down",
    ]
    turn = await say(engine, conv, "thumbs down")
    assert turn.feedback == {"step": "failed", "rating": "down"}
    turn = await say(engine, conv, "too slow")
    assert turn.feedback == {"step": "failed", "rating": "down", "comment": "too slow"}
    turn = await say(engine, conv, "hello?")
    assert "conversation has ended" in texts(turn)
    assert turn.status == "unresolved"


# -- global commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["human", "Human!", "talk to a person", "agent", "please operator"])
async def test_human_escalates_with_a_reason(colours, typed: str) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    turn = await say(engine, conv, typed)
    assert turn.status == "escalated"
    assert turn.escalated is not None
    assert turn.escalated["reason"] == "The customer asked for a person at step ask_size."
    assert turn.escalated["step"] == "ask_size"
    assert turn.messages[-1].type == "handoff"
    # After the handoff, the bot only acknowledges; the agent answers.
    turn = await say(engine, conv, "are you there?")
    assert turn.status == "escalated" and turn.escalated is None
    assert "a person will reply here" in texts(turn)


async def test_human_clicked_as_a_choice(colours) -> None:
    engine, conv, _ = colours
    turn = await pick(engine, conv, "human")
    assert turn.status == "escalated" and turn.escalated is not None


async def test_human_goes_to_on_human_step_when_the_flow_has_one(
    write_flow: WriteFlow, make_engine: MakeEngine
) -> None:
    write_flow(
        "colours",
        COLOURS.replace("start: hello", "start: hello\n    on_human: handoff").rstrip()
        + "\n      handoff:\n        escalate: Customer wants a person (custom).\n"
        + "        say: Getting someone now.\n",
    )
    engine = make_engine()
    conv, _ = await engine.start("c", "colours")
    turn = await say(engine, conv, "human")
    assert turn.status == "escalated"
    assert turn.escalated is not None and turn.escalated["reason"] == "Customer wants a person (custom)."
    assert [m.text for m in turn.messages] == ["Getting someone now."]
    assert turn.messages[0].type == "handoff"


@pytest.mark.parametrize("typed", ["back", "go back", "previous"])
async def test_back_returns_to_the_previous_question(colours, typed: str) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    turn = await say(engine, conv, typed)
    assert turn.step == "pick"
    assert texts(turn) == "Which colour?"
    assert conv.asked == []
    turn = await say(engine, conv, "blue")
    assert turn.step == "ask_size"


async def test_back_at_the_first_question_says_so_and_asks_again(colours) -> None:
    engine, conv, _ = colours
    turn = await say(engine, conv, "back")
    assert turn.step == "pick" and turn.status == "active"
    assert texts(turn) == "We're at the first question already.\nWhich colour?"
    assert turn.awaiting is not None and turn.awaiting.kind == "choice"


@pytest.mark.parametrize("typed", ["restart", "start over", "Start again"])
async def test_restart_clears_slots_and_starts_over(colours, typed: str) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "green")
    await say(engine, conv, "10")
    turn = await say(engine, conv, typed)
    assert turn.step == "pick" and conv.slots == {} and conv.asked == []
    assert [m.text for m in turn.messages] == [
        "OK, let's start again.",
        "Hello from smtp.example.net.",
        "Which colour?",
    ]


async def test_restart_after_an_escalation_reactivates(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "human")
    turn = await say(engine, conv, "restart")
    assert turn.status == "active" and conv.escalation is None and turn.step == "pick"


async def test_a_flow_choice_named_back_wins_over_the_global_command_when_clicked(
    write_flow: WriteFlow, make_engine: MakeEngine
) -> None:
    write_flow(
        "rooms",
        """
        id: rooms
        title: Rooms
        version: 1
        start: where
        steps:
          where:
            ask: Front or back room?
            choices:
              - {id: front, label: Front room, next: done}
              - {id: back, label: Back room, next: done}
          done:
            say: "Room noted."
            end: resolved
        """,
    )
    engine = make_engine()
    conv, _ = await engine.start("r", "rooms")
    turn = await pick(engine, conv, "back")
    assert turn.status == "resolved" and conv.step == "done"


async def test_human_after_the_flow_ended_escalates(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    await say(engine, conv, "1")
    await say(engine, conv, "yes")
    assert conv.status == "resolved"
    await say(engine, conv, "up")  # the rating
    await say(engine, conv, "")  # no comment
    turn = await say(engine, conv, "human")
    assert turn.status == "escalated"
    assert turn.escalated is not None and "after the flow ended" in turn.escalated["reason"]


async def test_resume_hands_back_at_a_step(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "human")
    conv.status = "with_agent"
    turn = await say(engine, conv, "hello agent")
    assert "a person will reply here" in texts(turn) and turn.awaiting is None
    turn = await engine.resume(conv, "ask_size")
    assert turn.status == "active" and conv.escalation is None
    assert texts(turn) == "You're back with the support bot. Let's carry on.\nHow many MB?"
    with pytest.raises(InputError, match="has no step 'nowhere'"):
        await engine.resume(conv, "nowhere")


async def test_a_conversation_not_at_a_question_is_refused(colours) -> None:
    engine, conv, _ = colours
    conv.step = "fine"  # edited by hand
    with pytest.raises(InputError, match="not waiting at a question"):
        await say(engine, conv, "hello")


async def test_unknown_flow_is_refused(colours) -> None:
    engine, _, _ = colours
    with pytest.raises(FlowNotFound, match="no flow 'nope'"):
        await engine.start("x", "nope")


# -- every question of the reference flow: "human" escalates with a reason ------------------------------


async def test_human_at_every_question_of_the_reference_flow(reference_engine: Engine) -> None:
    flow = reference_engine.registry.get("cant-send-email")
    questions = [sid for sid, step in flow.steps.items() if step.kind == "ask"]
    assert len(questions) >= 15
    for step_id in questions:
        conv, _ = await reference_engine.start(f"c-{step_id}", slots={"client_ip": "198.51.100.7"})
        conv.step = step_id
        conv.slots.update({"domain": "example.com", "ip": "203.0.113.7"})
        turn = await say(reference_engine, conv, "human")
        assert turn.status == "escalated", step_id
        assert turn.escalated is not None
        assert turn.escalated["reason"] == f"The customer asked for a person at step {step_id}.", step_id
        assert turn.escalated["step"] == step_id
        assert "person from our support team" in texts(turn)


# -- conversation state as JSON ------------------------------------------------------------------------


def _through_json(conv: Conversation) -> Conversation:
    return Conversation.from_json(json.loads(json.dumps(conv.to_json())))


async def test_json_round_trip_gives_the_same_behaviour(colours) -> None:
    engine, conv, _ = colours
    script = ["crimson", "lots", "back", "green", "70", "nope", "down", "meh"]
    for text in script:
        restored = _through_json(conv)
        assert restored == conv
        expected = await say(engine, conv, text)
        got = await say(engine, restored, text)
        assert got.to_json() == expected.to_json(), text
        assert restored.to_json() == conv.to_json()
    assert conv.status == "unresolved"
    assert conv.feedback == {"step": "failed", "rating": "down", "comment": "meh", "done": True}


async def test_dump_and_load_bytes(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "green")
    raw = conv.dump()
    assert isinstance(raw, bytes)
    loaded = Conversation.load(raw)
    assert loaded == conv
    assert loaded.slots == {"shade": "leafy"} and loaded.path == ["hello", "pick", "shade_says", "ask_size"]


async def test_state_json_is_plain_data(colours) -> None:
    engine, conv, _ = colours
    await say(engine, conv, "red")
    data = conv.to_json()
    assert set(data) == {
        "id",
        "flow_id",
        "version",
        "step",
        "status",
        "slots",
        "path",
        "asked",
        "stack",
        "tries",
        "visits",
        "escalation",
        "feedback",
        "pending",
    }
    assert data["flow_id"] == "colours" and data["version"] == "1" and data["step"] == "ask_size"
    assert json.loads(json.dumps(data)) == data


# -- versions -------------------------------------------------------------------------------------------


async def test_a_conversation_finishes_on_the_version_it_started_on(
    write_flow: WriteFlow, make_engine: MakeEngine
) -> None:
    write_flow("colours", COLOURS)
    engine = make_engine()
    old, _ = await engine.start("old", "colours")
    saved = old.to_json()

    v2 = COLOURS.replace("version: 1", "version: 2").replace("How many MB?", "What size, in MB?")
    write_flow("colours", v2)
    report = engine.registry.reload()
    assert report.loaded == ["colours@2"]
    assert engine.registry.get("colours").version == "2"

    new, _ = await engine.start("new", "colours")
    assert new.version == "2"
    assert "What size, in MB?" in texts(await say(engine, new, "red"))

    for conv in (old, Conversation.from_json(saved)):
        turn = await say(engine, conv, "red")
        assert conv.version == "1"
        assert texts(turn) == "How many MB?"


async def test_a_broken_new_version_keeps_the_last_good_one_serving(
    write_flow: WriteFlow, make_engine: MakeEngine
) -> None:
    write_flow("colours", COLOURS)
    engine = make_engine()
    write_flow(
        "colours", COLOURS.replace("version: 1", "version: 2").replace("next: ask_size", "next: nowhere")
    )
    report = engine.registry.reload()
    assert report.loaded == []
    [(file, problems)] = report.refused.items()
    assert file.endswith("colours.yaml")
    assert any("step `nowhere` does not exist" in p for p in problems)
    conv, turn = await engine.start("c", "colours")
    assert conv.version == "1" and turn.step == "pick"


# -- loop cap at runtime --------------------------------------------------------------------------------

LOOP = """
    id: loop
    title: Loop
    version: 1
    start: tip
    steps:
      tip:
        say: Try turning it off and on.
        max_visits: 2
        on_max_visits: give_up
        next: ask_again
      ask_again:
        ask: Did it work?
        choices:
          - {id: "yes", label: "Yes", next: done}
          - {id: again, label: "Tell me again", next: tip}
      done:
        say: Good.
        end: resolved
      give_up:
        escalate: The tip was shown twice and did not help.
"""


async def test_loop_cap_takes_the_cap_exit(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow("loop", LOOP)
    engine = make_engine()
    conv, turn = await engine.start("l", "loop")
    assert texts(turn).startswith("Try turning it off and on.")
    turn = await say(engine, conv, "tell me again")
    assert turn.step == "ask_again" and "Try turning it off and on." in texts(turn)
    assert conv.visits["tip"] == 2
    turn = await say(engine, conv, "tell me again")
    assert turn.status == "escalated"
    assert turn.escalated is not None
    assert turn.escalated["reason"] == "The tip was shown twice and did not help."
    assert "Try turning it off and on." not in texts(turn)


async def test_automatic_loop_with_a_cap_stops(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow(
        "spin",
        """
        id: spin
        title: Spin
        version: 1
        start: a
        steps:
          a:
            say: A
            max_visits: 3
            on_max_visits: out
            next: b
          b:
            say: B
            next: a
          out:
            say: Out
            end: unresolved
        """,
    )
    engine = make_engine()
    _, turn = await engine.start("s", "spin")
    assert [m.text for m in turn.messages][:7] == ["A", "B", "A", "B", "A", "B", "Out"]
    assert turn.status == "unresolved"


async def test_runaway_steps_escalate_instead_of_hanging(
    write_flow: WriteFlow, make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The validator refuses uncapped loops; this is the engine's own safety net under it.
    write_flow("spin", LOOP.replace("max_visits: 2", "max_visits: 100"))
    engine = make_engine()
    monkeypatch.setattr(engine_module, "MAX_STEPS_PER_TURN", 3)
    conv, turn = await engine.start("s", "loop")
    turn = await say(engine, conv, "again")
    assert turn.step == "ask_again"
    monkeypatch.setattr(engine_module, "MAX_STEPS_PER_TURN", 1)
    turn = await say(engine, conv, "again")
    assert turn.status == "escalated"
    assert turn.escalated is not None and "needs a loop cap" in turn.escalated["reason"]


# -- start slots ----------------------------------------------------------------------------------------


async def test_only_declared_inputs_are_taken_at_start(reference_engine: Engine) -> None:
    conv, _ = await reference_engine.start(
        "c", slots={"client_ip": "198.51.100.7", "domain": "evil.example", "blocklist": {"status": "pass"}}
    )
    assert conv.slots == {"client_ip": "198.51.100.7"}
    assert conv.flow_id == "cant-send-email"


# -- every validator through the engine ------------------------------------------------------------------

FORM = """
    id: form
    title: Form
    version: 1
    start: ask_domain
    steps:
      ask_domain:
        ask: Domain?
        slot: domain
        validate: domain
        next: ask_email
      ask_email:
        ask: Email?
        slot: email
        validate: email
        next: ask_ip
      ask_ip:
        ask: IP?
        slot: ip
        validate: ip
        hint: 203.0.113.7
        next: ask_count
      ask_count:
        ask: How many?
        slot: count
        validate: number
        next: ask_ok
      ask_ok:
        ask: OK?
        slot: ok
        validate: yes_no
        max_tries: 2
        on_invalid: unsure
        next: ask_note
      ask_note:
        ask: Anything else?
        slot: note
        next: summary
      summary:
        branch:
          - if: ok
            next: done
          - else: not_ok
      done:
        say: "{{ domain }} / {{ email }} / {{ ip }} / {{ count }} / {{ note }}"
        end: resolved
      not_ok:
        say: Not OK.
        end: unresolved
      unsure:
        say: Unsure.
        end: unresolved
"""


async def form_at(engine: Engine, step: str) -> Conversation:
    """A conversation on the form flow, answered validly up to `step`."""
    valid = {
        "ask_domain": "example.com",
        "ask_email": "jo@example.com",
        "ask_ip": "192.0.2.1",
        "ask_count": "3",
    }
    conv, _ = await engine.start("f", "form")
    while conv.step != step:
        await say(engine, conv, valid[conv.step])
    return conv


async def test_every_validator_through_the_engine(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow("form", FORM)
    engine = make_engine()
    conv, turn = await engine.start("f", "form")
    assert turn.awaiting is not None and turn.awaiting.to_json() == {"kind": "text", "hint": ""}
    for typed, step in [
        ("me@Bücher.example", "ask_email"),
        ("not an address", "ask_email"),
        ("Jo@xn--bcher-kva.example", "ask_ip"),
        ("the router", "ask_ip"),
        ("2001:DB8::1", "ask_count"),
        ("about 1 200 emails", "ask_ok"),
        ("yep", "ask_note"),
        ("  thanks a lot  ", "done"),
    ]:
        turn = await say(engine, conv, typed)
        assert conv.step == step, (typed, texts(turn))
    assert conv.slots == {
        "domain": "bücher.example",
        "email": "Jo@bücher.example",
        "ip": "2001:db8::1",
        "count": 1200,
        "ok": True,
        "note": "thanks a lot",
    }
    assert "bücher.example / Jo@bücher.example / 2001:db8::1 / 1200 / thanks a lot" in texts(turn)


async def test_yes_no_slot_false_takes_the_else_arm(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow("form", FORM)
    engine = make_engine()
    conv = await form_at(engine, "ask_ok")
    await say(engine, conv, "no it doesn't")
    turn = await say(engine, conv, "-")
    assert conv.slots["ok"] is False and "Not OK." in texts(turn)


async def test_invalid_answers_up_to_max_tries_go_to_on_invalid(
    write_flow: WriteFlow, make_engine: MakeEngine
) -> None:
    write_flow("form", FORM)
    engine = make_engine()
    conv = await form_at(engine, "ask_ok")
    turn = await say(engine, conv, "maybe")
    assert conv.step == "ask_ok" and texts(turn).rstrip() == "Please answer yes or no."
    turn = await say(engine, conv, "perhaps")
    assert conv.step == "unsure" and turn.status == "unresolved" and "Unsure." in texts(turn)


async def test_invalid_ip_reask_shows_the_hint(write_flow: WriteFlow, make_engine: MakeEngine) -> None:
    write_flow("form", FORM)
    engine = make_engine()
    conv = await form_at(engine, "ask_ip")
    turn = await say(engine, conv, "my router")
    assert texts(turn) == (
        "That isn't an IP address. It looks like 203.0.113.7; search 'what is my IP' to find yours. 203.0.113.7"
    )
    assert turn.awaiting is not None and turn.awaiting.to_json() == {"kind": "text", "hint": "203.0.113.7"}


@pytest.mark.parametrize("typed", ["I want to talk to a human", "can I speak to a real person please"])
async def test_a_sentence_asking_for_a_person_escalates(reference_engine: Engine, typed: str) -> None:
    conv, _ = await reference_engine.start("c")
    turn = await say(reference_engine, conv, "it times out")
    assert turn.step == "ask_domain_for_ports"
    turn = await say(reference_engine, conv, typed)
    assert turn.status == "escalated"
