"""The terminal channel: a readable chat for people, or one JSON object per line for programs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import IO, Any

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Message, Turn
from bot.errors import BotError
from bot.redaction import redact, was_redacted
from bot.service import PRIVACY_NOTICE

MARKS = {"pass": "[ok]", "warn": "[!!]", "fail": "[XX]", "unknown": "[??]", "skipped": "[--]"}
QUIT_WORDS = frozenset({"quit", "exit", ":q"})


class TerminalSession:
    """One conversation held in memory for the terminal; the engine does all the thinking."""

    def __init__(self, engine: Engine, flow_id: str | None = None, sinks: Sequence[str] = ()) -> None:
        self.engine = engine
        self.flow_id = flow_id
        self.sinks = tuple(sinks)  # where hand-overs would go (settings), to say plainly they don't
        self.conversation: Conversation | None = None
        # A word to the person at the terminal about the last turn (not part of the conversation).
        self.notice: str | None = None

    async def open(self) -> Turn:
        conv_id = "c_" + uuid.uuid4().hex[:16]
        self.conversation, turn = await self.engine.start(conv_id, self.flow_id)
        return turn

    async def send(self, incoming: Incoming) -> Turn:
        assert self.conversation is not None, "open() first"
        before = self.conversation.status
        turn = await self._answer(incoming)
        handed_over = turn.status == "escalated" and before != "escalated"
        self.notice = self.handover_notice() if handed_over else None
        return turn

    async def _answer(self, incoming: Incoming) -> Turn:
        assert self.conversation is not None, "open() first"
        hidden = False
        if incoming.text is not None:
            cleaned = redact(incoming.text)
            hidden = was_redacted(incoming.text, cleaned)
            incoming = Incoming(text=cleaned)
        turn = await self.engine.handle(self.conversation, incoming)
        if hidden:  # the same gentle word as in every other channel
            turn = replace(turn, messages=(Message(role="bot", text=PRIVACY_NOTICE), *turn.messages))
        return turn

    def handover_notice(self) -> str:
        """The bot said it is passing this to a person; in memory, nothing is stored or sent."""
        if self.sinks:
            return (
                f"(This chat is not saved, so this hand-over was not sent to {', '.join(self.sinks)}. "
                "Run `supportbot chat --save` to store the conversation and queue hand-overs "
                "for `supportbot worker` to deliver.)"
            )
        return (
            "(This chat is not saved, so no one will see this hand-over. To hand over for real, run "
            "`supportbot chat --save` with an escalation sink set up, such as SUPPORTBOT_ESCALATION_WEBHOOK_URL.)"
        )


def parse_request(line: str) -> Incoming:
    """One JSON line: {"text": "..."} or {"choice": "ID"}; raise ValueError saying what's wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f'not JSON ({exc.msg} at column {exc.colno}); send {{"text": "..."}}') from None
    if not isinstance(data, dict):
        raise ValueError('send an object: {"text": "..."} or {"choice": "ID"}')
    unknown = set(data) - {"text", "choice"}
    if unknown:
        raise ValueError(f'unknown field(s) {sorted(unknown)}; use "text" or "choice"')
    if ("text" in data) == ("choice" in data):
        raise ValueError('send exactly one of "text" or "choice"')
    value = data.get("text", data.get("choice"))
    if not isinstance(value, str):
        raise ValueError("the value must be a string")
    return Incoming(text=value) if "text" in data else Incoming(choice=value)


async def run_jsonl(session: TerminalSession, lines: IO[str], out: IO[str]) -> None:
    """The machine-readable chat: the opening turn first, then one turn (or error) per input line."""

    def emit(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    emit((await session.open()).to_json())
    for line in lines:
        if not line.strip():
            continue
        conv_id = session.conversation.id if session.conversation else None
        try:
            incoming = parse_request(line)
            turn = await session.send(incoming)
        except (ValueError, BotError) as exc:
            emit({"conversation": conv_id, "error": str(exc)})
            continue
        data = turn.to_json()
        if session.notice:  # one more bot text after the hand-over: the turn object keeps its shape
            data["messages"].append(Message(role="bot", text=session.notice).to_json())
        emit(data)


async def run_human(
    session: TerminalSession, read: Callable[[str], str], write: Callable[[str], None]
) -> None:
    """The readable chat: numbered choices; type a number, a label or your own words."""
    turn = await session.open()
    while True:
        write(render(turn))
        if session.notice:  # after the turn, in the terminal's own voice rather than the bot's
            write(f"  {session.notice}")
        try:
            said = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("\nBye!")
            return
        if said.lower() in QUIT_WORDS:
            write("Bye!")
            return
        if not said:
            continue
        turn = await session.send(Incoming(text=said))


def render(turn: Turn) -> str:
    """A turn as plain text for a terminal."""
    lines: list[str] = []
    for message in turn.messages:
        if message.type == "probe" and message.probe is not None:
            lines.append(f"  {MARKS.get(message.probe.status, '[  ]')} {message.probe.id}: {message.text}")
        else:
            lines.append(f"bot: {message.text}")
    if turn.awaiting is not None and turn.awaiting.kind == "choice":
        lines.extend(f"  {i}. {choice.label}" for i, choice in enumerate(turn.awaiting.choices, 1))
    elif turn.awaiting is not None and turn.awaiting.hint:
        lines.append(f"  (for example: {turn.awaiting.hint})")
    if turn.status != "active":
        lines.append(f"  -- conversation {turn.status}; type restart to begin again, or quit --")
    return "\n".join(lines)
