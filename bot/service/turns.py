"""Customers' turns: start a conversation and take one turn in one transaction, optimistic across processes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.engine.model import Awaiting, Conversation, Incoming, Message, Turn
from bot.engine.probing import ProbeResult, ProgressCallback
from bot.errors import Conflict, Duplicate, KeyReused
from bot.redaction import redact, was_redacted
from bot.service import events, records
from bot.service.admission import Admission, admit, notice
from bot.service.handoff import handover, look_back
from bot.service.ports import Deps
from bot.service.results import Started, TurnResult
from bot.service.retry import retry_conflicts
from bot.service.tokens import TokenCheck
from bot.storage import store
from bot.storage.driver import Session

PRIVACY_NOTICE = (
    "I've hidden what looked like a password or key in your message. Please never share passwords "
    "here; I will never ask for one."
)
NOTICE = Message(role="bot", text=PRIVACY_NOTICE)


@dataclass(frozen=True)
class _Pending:
    """A computed turn: its answer, the writes for the turn's transaction, the events for after it."""

    result: TurnResult
    write: Callable[[Session], Awaitable[None]]
    publish: list[dict[str, Any]]


class CustomerTurns:
    """Starts conversations and runs customers' turns; an agent's conversation gets the message instead."""

    def __init__(self, deps: Deps, tokens: TokenCheck) -> None:
        self.deps = deps
        self.tokens = tokens

    async def start(
        self,
        flow_id: str | None,
        channel: str,
        customer: dict[str, str] | None = None,
        thread_key: str | None = None,
    ) -> Started:
        customer = {k: redact(str(v)) for k, v in (customer or {}).items()}
        conversation_id = "c_" + secrets.token_hex(12)
        token = secrets.token_urlsafe(32)
        slots = {"client_ip": customer["ip"]} if customer.get("ip") else {}
        conv, turn = await self.deps.engine.start(conversation_id, flow_id, slots)
        admission: Admission = await admit(self.deps, customer, joins=False) if turn.escalated else "new"
        opening = TurnResult.of(turn, after=self._hours_notice(turn) + notice(admission))
        messages = _messages(opening)
        escalation = None
        if turn.escalated:  # a new conversation: nothing to look back on but its opening lines
            history = [store.as_stored(m) for m in messages]
            escalation = self._handover(conv, turn, channel, customer, history, None, admission)
        try:
            # One statement on PostgreSQL, the hand-over included.
            async with self.deps.driver.single() as s:
                await store.insert_conversation(
                    s,
                    conversation_id=conversation_id,
                    flow_id=conv.flow_id,
                    flow_version=conv.version,
                    channel=channel,
                    thread_key=thread_key,
                    status=conv.status,
                    token=token,
                    customer=customer,
                    state=conv.dump(),
                    awaiting=_awaiting(opening),
                    messages=messages,
                    events=events.rows(events.turn_events(conv, turn, conv.path, None, started=True)),
                    escalation=escalation,
                )
        except Duplicate:
            # Only (channel, thread_key) can collide: another process started this thread first.
            raise Conflict(f"{channel} thread {thread_key} already has a conversation") from None
        self.tokens.remember(conversation_id, store.token_hash(token))
        return Started(conversation_id, token, opening)

    async def reply(
        self,
        conversation_id: str,
        incoming: Incoming,
        idempotency_key: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> TurnResult:
        """Take one customer turn; a retried request with the same idempotency key is not applied twice."""
        # Both fields are what the client sent: a "choice" is any string a client cares to post, and
        # one the flow doesn't offer is stored as the customer's words.
        sent = incoming.text if incoming.text is not None else incoming.choice
        hidden = False
        if sent is not None:
            cleaned = redact(sent)
            hidden = was_redacted(sent, cleaned)
            incoming = Incoming(text=cleaned) if incoming.text is not None else Incoming(choice=cleaned)

        async def once() -> TurnResult:
            # Duplicate too: a racing retry stored this idempotency key first; the redo answers from it.
            return await self._reply_once(conversation_id, incoming, idempotency_key, progress, hidden)

        async with self.deps.locks.hold(conversation_id):
            return await retry_conflicts(conversation_id, once)

    async def _reply_once(
        self,
        conversation_id: str,
        incoming: Incoming,
        idempotency_key: str | None,
        progress: ProgressCallback | None,
        hidden: bool,
    ) -> TurnResult:
        # Optimistic on both databases: read, run the engine (probes may take seconds, holding
        # nothing), then write only if the row is unchanged (store.save); a turn that lost a race is
        # redone on the new state by reply(), or answered from the stored turn if it was a retry.
        async with self.deps.driver.read() as s:
            row, done = await store.load_for_turn(s, conversation_id, idempotency_key)
        if done is not None:
            return TurnResult(records.turn_of(_replayed(done, incoming, idempotency_key)), replayed=True)
        pending = await self._compute(row, incoming, idempotency_key, progress, hidden)
        async with self.deps.driver.single() as s:  # one statement on PostgreSQL, a hand-over's too
            await pending.write(s)
        for event in pending.publish:  # after the commit: nobody hears of a turn that was rolled back
            await self.deps.events.publish(conversation_id, event)
        return pending.result

    async def _compute(
        self,
        row: store.Row,
        incoming: Incoming,
        idempotency_key: str | None,
        progress: ProgressCallback | None,
        hidden: bool,
    ) -> _Pending:
        """Run the engine on a loaded row; what to write (in the caller's transaction) and publish."""
        conversation_id = row.id
        conv = Conversation.load(row.state)
        if conv.status == "with_agent":
            return self._to_agent(row, conv, incoming, idempotency_key, hidden)

        async def report(result: ProbeResult) -> None:
            await self.deps.events.publish(conversation_id, {"type": "probe", "probe": result.to_json()})
            if progress is not None:
                await progress(result)

        entered_from, previous = len(conv.path), conv.status
        turn = await self.deps.engine.handle(conv, incoming, progress=report)
        recent: int | None = None
        history: list[dict[str, Any]] = []
        admission: Admission = "new"
        if turn.escalated:
            async with self.deps.driver.read() as s:
                recent, history = await look_back(s, conversation_id, self.deps.repeat_window)
            admission = await admit(self.deps, row.customer, joins=recent is not None)
        after = self._hours_notice(turn) + notice(admission)
        result = TurnResult.of(turn, before=(NOTICE,) if hidden else (), after=after)

        async def write(s: Session) -> None:
            user = [turn.user_message.to_json()] if turn.user_message else []
            # The idle sweep had closed it as abandoned and the customer came back: count that.
            before = conv.path[entered_from - 1 : entered_from]
            came_back = events.resumed(conv, before) if row.status == "abandoned" else []
            entered = conv.path[entered_from:]
            happened = events.turn_events(conv, turn, entered, previous, incoming=incoming)
            # The turn's JSON once: its awaiting and messages are stored as they are in the answer.
            shown = result.turn.to_json()
            answer = _with_request(shown, incoming)
            lines = user + shown["messages"]
            escalation = None
            if turn.escalated:
                told = [*history, *(store.as_stored(m) for m in lines)]
                escalation = self._handover(conv, turn, row.channel, row.customer, told, recent, admission)
            await store.save_turn(
                s,
                row,
                state=conv.dump(),
                status=conv.status,
                awaiting=shown["awaiting"],
                domain=_domain(conv),
                messages=lines,
                events=events.rows(came_back + happened),
                remember=(idempotency_key, answer) if idempotency_key else None,
                escalation=escalation,
            )

        publish = [{"type": "status", "status": conv.status}] if turn.escalated else []
        return _Pending(result, write, publish)

    def _hours_notice(self, turn: Turn) -> tuple[Message, ...]:
        """With office hours set, a hand-over says when a person will answer (stored with the turn)."""
        hours = self.deps.hours
        if turn.escalated and hours is not None:
            return (Message(role="bot", text=hours.notice(self.deps.clock())),)
        return ()

    def _to_agent(
        self, row: store.Row, conv: Conversation, incoming: Incoming, key: str | None, hidden: bool
    ) -> _Pending:
        """While an agent has the conversation the bot stays quiet; the message goes to the agent."""
        said = incoming.text if incoming.text is not None else str(incoming.choice)
        message = Message(role="user", text=said).to_json()
        quiet = Turn(conv.id, "with_agent", (NOTICE,) if hidden else (), Awaiting("text"))
        result = TurnResult(quiet)

        async def write(s: Session) -> None:
            await store.save_turn(
                s,
                row,
                state=conv.dump(),
                status=conv.status,
                awaiting=_awaiting(result),
                messages=[message, *_messages(result)],
                remember=(key, _with_request(quiet.to_json(), incoming)) if key else None,
            )

        return _Pending(result, write, [{"type": "message", "message": message}])

    def _handover(
        self,
        conv: Conversation,
        turn: Turn,
        channel: str,
        customer: dict[str, Any],
        history: list[dict[str, Any]],
        recent: int | None,
        admission: Admission,
    ) -> store.Escalation:
        title = self.deps.engine.registry.get(conv.flow_id, conv.version).title
        return handover(
            conv,
            turn,
            channel=channel,
            customer=customer,
            flow_title=title,
            history=history,
            recent=recent,
            sinks=self.deps.sinks,
            announce=admission != "held",
        )


def _awaiting(result: TurnResult) -> dict[str, Any] | None:
    """What the bot awaits, in the stored form (the turn object's)."""
    return result.awaiting.to_json() if result.awaiting is not None else None


def _messages(result: TurnResult) -> list[dict[str, Any]]:
    return [m.to_json() for m in result.messages]


def _domain(conv: Conversation) -> str | None:
    value = conv.slots.get("domain")
    return value if isinstance(value, str) else None


# A stored turn carries a digest of the (already redacted) message it answered, so a key sent again
# with another message is refused instead of answering the first one and dropping the second.
_REQUEST = "request_digest"


def _digest(incoming: Incoming) -> str:
    kind, value = ("text", incoming.text) if incoming.text is not None else ("choice", incoming.choice)
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()


def _with_request(data: dict[str, Any], incoming: Incoming) -> dict[str, Any]:
    return {**data, _REQUEST: _digest(incoming)}


def _replayed(done: dict[str, Any], incoming: Incoming, key: str | None) -> dict[str, Any]:
    """The stored answer to a retried request; KeyReused when the key came with another message."""
    sent = done.pop(_REQUEST, None)
    if sent is not None and sent != _digest(incoming):
        raise KeyReused(
            f"Idempotency-Key {key!r} was already used for a different message in this conversation; "
            "send each new message with a new key (and a retry with the same key and the same body)."
        )
    return done
