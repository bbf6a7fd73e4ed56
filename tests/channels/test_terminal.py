"""The terminal channel: the readable chat driven by scripted input, and --jsonl through a real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from bot.channels.terminal import TerminalSession, parse_request, render, run_human, run_jsonl
from bot.engine.engine import Engine
from bot.engine.model import Incoming, Message, ProbeView, Turn
from bot.engine.probing import FixtureProbes, OfflineProbes, ProbeResult
from bot.engine.registry import FlowRegistry

REPO = Path(__file__).resolve().parents[2]
FLOWS = REPO / "flows"


def engine(probes: OfflineProbes | None = None) -> Engine:
    return Engine(FlowRegistry.load_dir(FLOWS), probes or OfflineProbes())


class Script:
    """Feeds lines to run_human as a person would type them; EOF when they run out."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


# -- human mode -----------------------------------------------------------------------------------------


async def test_human_mode_shows_numbered_choices_and_takes_a_typed_number() -> None:
    written: list[str] = []
    script = Script("1", "example.com", "quit")
    await run_human(TerminalSession(engine()), script, written.append)
    assert written[-1] == "Bye!"
    opening, domain_question, probe_offer = written[0], written[1], written[2]
    assert opening.splitlines()[:2] == [
        'bot: Hi! I\'ll help you find out why your emails aren\'t sending. Pick an answer or type it in your own words. You can type "back", "restart" or "human" at any time.',
        "bot: What happens when you try to send an email?",
    ]
    assert "  1. It can't connect to the server or times out" in opening.splitlines()
    assert "  8. Something else, or I'm not sure" in opening.splitlines()
    assert domain_question.splitlines() == [
        "bot: Which domain do you send email from? For example, for jo@example.com type example.com.",
        "  (for example: example.com)",
    ]
    assert probe_offer.splitlines()[-2:] == ["  1. Yes, check it", "  2. No, skip the check"]
    assert script.prompts == ["> ", "> ", "> "]


async def test_human_mode_free_text_probe_marks_and_the_end() -> None:
    written: list[str] = []
    probes = FixtureProbes({"smtp_25": ProbeResult("smtp_25", "fail", "Nothing answered on port 25.")})
    script = Script("my mail times out", "jo@example.com", "yes please check")
    await run_human(TerminalSession(engine(probes)), script, written.append)
    escalated = written[3]
    assert "  [XX] smtp_25: Nothing answered on port 25." in escalated.splitlines()
    assert (
        escalated.splitlines()[-1] == "  -- conversation escalated; type restart to begin again, or quit --"
    )
    assert written[-1] == "\nBye!"  # input ran out (Ctrl-D)


async def test_human_mode_ignores_empty_lines_and_quits_on_exit() -> None:
    written: list[str] = []
    await run_human(TerminalSession(engine()), Script("", "   ", "EXIT"), written.append)
    assert written[-1] == "Bye!"
    assert not any("isn't one of the options" in w for w in written)


async def test_human_mode_ctrl_c_says_bye() -> None:
    written: list[str] = []

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    await run_human(TerminalSession(engine()), interrupted, written.append)
    assert written[-1] == "\nBye!"


async def test_a_password_typed_in_the_terminal_is_hidden_and_the_customer_told() -> None:
    session = TerminalSession(engine())
    await session.open()
    turn = await session.send(Incoming(text="my password is hunter2 and it says wrong password"))
    assert turn.messages[0].text.startswith("I've hidden what looked like a password")
    assert turn.user_message is not None and "hunter2" not in turn.user_message.text
    assert turn.step == "ask_fixed_account"  # the rest of the sentence still answered the question


UNSAVED_NO_SINK = (
    "  (This chat is not saved, so no one will see this hand-over. To hand over for real, run "
    "`supportbot chat --save` with an escalation sink set up, such as SUPPORTBOT_ESCALATION_WEBHOOK_URL.)"
)


async def test_a_hand_over_in_an_unsaved_chat_says_no_one_will_see_it() -> None:
    written: list[str] = []
    await run_human(TerminalSession(engine()), Script("human", "human", "restart", "human"), written.append)
    handed_over = written[1]
    assert "passing this to a person" in handed_over
    assert handed_over.splitlines()[-1].startswith("  -- conversation escalated;")
    assert written[2] == UNSAVED_NO_SINK  # its own line, after the turn, before the next prompt
    # Asking again while escalated is no new hand-over; after a restart, a new one is told again.
    assert written.count(UNSAVED_NO_SINK) == 2
    assert written[3] != UNSAVED_NO_SINK and written[-2] == UNSAVED_NO_SINK


async def test_an_unsaved_hand_over_names_the_configured_sink_it_did_not_reach() -> None:
    session = TerminalSession(engine(), sinks=("webhook", "slack"))
    await session.open()
    turn = await session.send(Incoming(text="my mail times out"))
    assert session.notice is None  # an ordinary turn has nothing to add
    turn = await session.send(Incoming(text="human"))
    assert turn.status == "escalated"
    assert session.notice == (
        "(This chat is not saved, so this hand-over was not sent to webhook, slack. Run `supportbot chat "
        "--save` to store the conversation and queue hand-overs for `supportbot worker` to deliver.)"
    )


def test_render_marks_each_probe_status() -> None:
    messages = tuple(
        Message(
            role="bot", type="probe", text=f"{status} text", probe=ProbeView("mx", status, f"{status} text")
        )
        for status in ("pass", "warn", "fail", "unknown", "skipped")
    )
    turn = Turn(conversation="c", status="active", messages=messages, awaiting=None)
    assert render(turn).splitlines() == [
        "  [ok] mx: pass text",
        "  [!!] mx: warn text",
        "  [XX] mx: fail text",
        "  [??] mx: unknown text",
        "  [--] mx: skipped text",
    ]


# -- jsonl, in process ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("not json", "not JSON (Expecting value at column 1)"),
        ("[1, 2]", "send an object"),
        ('{"txt": "hi"}', "unknown field(s) ['txt']"),
        ('{"text": "a", "choice": "b"}', 'send exactly one of "text" or "choice"'),
        ("{}", 'send exactly one of "text" or "choice"'),
        ('{"text": 5}', "the value must be a string"),
    ],
)
def test_parse_request_refuses_with_a_reason(line: str, error: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_request(line)
    assert error in str(info.value)


def test_parse_request_accepts_text_and_choice() -> None:
    assert parse_request('{"text": "héllo"}') == Incoming(text="héllo")
    assert parse_request('{"choice": "yes"}\n') == Incoming(choice="yes")


async def test_run_jsonl_in_process() -> None:
    lines = io.StringIO('{"choice": "login_rejected"}\n\nbroken\n{"text": "yes it works"}\n')
    out = io.StringIO()
    await run_jsonl(TerminalSession(engine()), lines, out)
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(objects) == 4  # opening, answer, error, answer: the blank line is skipped
    conv_id = objects[0]["conversation"]
    assert all(o["conversation"] == conv_id for o in objects)
    assert "error" in objects[2] and set(objects[2]) == {"conversation", "error"}
    assert objects[3]["status"] == "resolved"


async def test_run_jsonl_adds_the_unsaved_notice_as_a_bot_text_after_the_handoff() -> None:
    out = io.StringIO()
    await run_jsonl(TerminalSession(engine()), io.StringIO('{"text": "human"}\n{"text": "human"}\n'), out)
    _opening, handed_over, again = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(handed_over) == {"conversation", "status", "messages", "awaiting"}
    assert handed_over["status"] == "escalated"
    assert [m["type"] for m in handed_over["messages"]] == ["handoff", "text"]
    assert handed_over["messages"][-1] == {"role": "bot", "type": "text", "text": UNSAVED_NO_SINK.strip()}
    assert all(UNSAVED_NO_SINK.strip() != m["text"] for m in again["messages"])


# -- jsonl through a real process -------------------------------------------------------------------------


class Chat:
    """`python -m bot chat --jsonl` as a child process; one line in, one line out, while it runs."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ)
        env.pop("PYTHONUNBUFFERED", None)  # the channel itself must flush each line, not Python
        # The chat runs live probes; a resolver on a closed loopback port keeps them off the internet.
        env["SUPPORTBOT_NAMESERVERS"] = "127.0.0.1:9"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--jsonl", *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )

    @property
    def stdin(self) -> IO[str]:
        assert self.process.stdin is not None
        return self.process.stdin

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.endswith("\n"), f"no full line; stderr: {self.stderr_text()}"
        assert self.process.poll() is None, "the process should still be running"
        data: dict[str, Any] = json.loads(line)
        return data

    def send(self, raw: str) -> dict[str, Any]:
        self.stdin.write(raw + "\n")
        self.stdin.flush()
        return self.read()

    def stderr_text(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def close(self) -> int:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        code = self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture
def chat() -> Iterator[Chat]:
    process = Chat()
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
        process.close()


def assert_turn_object(data: dict[str, Any]) -> None:
    assert set(data) == {"conversation", "status", "messages", "awaiting"}, data
    assert data["conversation"].startswith("c_")
    assert data["status"] in {"active", "resolved", "unresolved", "escalated", "with_agent"}
    for message in data["messages"]:
        assert message["role"] in {"bot", "agent", "user"}
        assert message["type"] in {"text", "probe", "handoff"}
        assert isinstance(message["text"], str)
        if message["type"] == "probe":
            assert {"id", "status", "summary"} <= set(message["probe"])
    awaiting = data["awaiting"]
    assert awaiting is None or awaiting["kind"] in {"choice", "text"}


def test_jsonl_process_turn_by_turn(chat: Chat) -> None:
    opening = chat.read()  # before anything is sent: the opening turn is flushed on its own
    assert_turn_object(opening)
    assert opening["status"] == "active"
    assert opening["messages"][-1]["text"] == "What happens when you try to send an email?"
    assert [c["id"] for c in opening["awaiting"]["choices"]][:2] == ["cannot_connect", "login_rejected"]
    conv_id = opening["conversation"]

    turn = chat.send(json.dumps({"text": "my mail program times out"}))
    assert_turn_object(turn)
    assert turn["conversation"] == conv_id
    assert turn["awaiting"] == {"kind": "text", "hint": "example.com"}

    error = chat.send("this is not json")
    assert error == {
        "conversation": conv_id,
        "error": 'not JSON (Expecting value at column 1); send {"text": "..."}',
    }
    error = chat.send('{"text": 42}')
    assert error == {"conversation": conv_id, "error": "the value must be a string"}

    turn = chat.send('{"text": "example.com"}')  # the conversation went on after the errors
    assert_turn_object(turn)
    assert [c["id"] for c in turn["awaiting"]["choices"]] == ["yes", "no"]
    assert "example.com" in turn["messages"][0]["text"]

    turn = chat.send('{"choice": "yes"}')
    assert_turn_object(turn)
    kinds = [m["type"] for m in turn["messages"]]
    assert kinds == ["text", "probe", "text"]
    assert turn["messages"][1]["probe"]["id"] == "smtp_25"
    # No resolver answers (see Chat), so the check can't decide and the flow takes its unknown branch.
    assert turn["messages"][1]["probe"]["status"] in ("unknown", "skipped")
    assert turn["awaiting"] is not None and "telnet" in turn["messages"][2]["text"]

    turn = chat.send('{"text": "human"}')
    assert_turn_object(turn)
    assert turn["status"] == "escalated" and turn["awaiting"] is None
    handoff, notice = turn["messages"][-2:]
    assert handoff["type"] == "handoff"
    # Nothing is stored or sent from an unsaved chat, and the last bot text says so.
    assert notice["type"] == "text" and notice["text"].startswith("(This chat is not saved")

    assert chat.close() == 0


def test_jsonl_process_resolves_by_clicks(chat: Chat) -> None:
    chat.read()
    assert chat.send('{"choice": "stuck_outbox"}')["awaiting"]["choices"][0]["id"] == "yes"
    turn = chat.send('{"choice": "yes"}')
    assert turn["status"] == "resolved"
    assert [c["id"] for c in turn["awaiting"]["choices"]] == ["feedback_up", "feedback_down"]
    assert chat.close() == 0


def test_jsonl_unknown_flow_fails_with_one_clear_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--jsonl", "--flow", "nope"],
        cwd=REPO,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        done.stderr.strip().splitlines()[-1]
        == "supportbot: no flow 'nope' is loaded (loaded: cant-send-email)"
    )
