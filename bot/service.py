"""The application service every channel calls: one transaction per turn, escalation, human takeover."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Message, Turn
from bot.engine.probing import ProbeResult, ProgressCallback
from bot.errors import Conflict, Duplicate, InputError
from bot.escalation.packet import build_packet
from bot.redaction import redact, was_redacted
from bot.storage import store
from bot.storage.driver import Driver, Session

log = logging.getLogger(__name__)
MAX_RETRIES = 5
KNOWN_TOKENS = 10_000  # token hashes kept in memory: most turns skip a database read to authorise
PRIVACY_NOTICE = (
    "I've hidden what looked like a password or key in your message. Please never share passwords "
    "here; I will never ask for one."
)


class Bus(Protocol):
    def subscribe(
        self, conversation_id: str, ready: asyncio.Event | None = None
    ) -> AsyncIterator[dict[str, Any]]: ...

    async def publish(self, conversation_id: str, event: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class _Pending:
    """A computed turn: its answer, the writes for the turn's transaction, the events for after it."""

    data: dict[str, Any]
    write: Callable[[Session], Awaitable[None]]
    publish: list[dict[str, Any]]


@dataclass
class _TurnLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


@dataclass(frozen=True)
class Started:
    conversation_id: str
    token: str
    turn: dict[str, Any]


class ConversationService:
    """Loads, runs and saves conversations; channels translate, this decides what is stored and sent."""

    def __init__(
        self, db: AsyncEngine, driver: Driver, engine: Engine, events: Bus, sinks: Sequence[str] = ()
    ) -> None:
        self.db = db  # SQLAlchemy, for readers elsewhere (admin, analytics); turns go through `driver`
        self.driver = driver
        self.engine = engine
        self.events = events
        self.sinks = list(sinks)
        # Turns of one conversation in this process wait for each other; across processes the
        # lock_version check (store.save) turns a race into a retry, never a lost or mixed turn.
        self._locks: dict[str, _TurnLock] = {}
        # A conversation's token never changes, so a hash checked once is kept (bounded, oldest out).
        self._token_hashes: OrderedDict[str, str] = OrderedDict()

    @contextlib.asynccontextmanager
    async def _turn_lock(self, conversation_id: str) -> AsyncIterator[None]:
        """This process's lock for one conversation, dropped when nobody holds or awaits it (no leak
        of one lock per conversation ever seen: a soak grew ~1 KB per conversation before)."""
        held = self._locks.get(conversation_id)
        if held is None:
            held = self._locks[conversation_id] = _TurnLock()
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if held.users == 0:
                del self._locks[conversation_id]

    # -- customers -------------------------------------------------------------------------------

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
        conv, turn = await self.engine.start(conversation_id, flow_id, slots)
        data = turn.to_json()
        try:
            async with self.driver.write() as s:
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
                    awaiting=data["awaiting"],
                )
                await store.add_messages(s, conversation_id, data["messages"])
                await store.add_events(s, _events(conv, turn, conv.path, None, started=True))
                if turn.escalated:
                    await self._escalate(s, conv, turn, channel, customer)
        except Duplicate:
            # Only (channel, thread_key) can collide: another process started this thread first.
            raise Conflict(f"{channel} thread {thread_key} already has a conversation") from None
        self._know_token(conversation_id, store.token_hash(token))
        return Started(conversation_id, token, data)

    async def reply(
        self,
        conversation_id: str,
        incoming: Incoming,
        idempotency_key: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Take one customer turn; a retried request with the same idempotency key is not applied twice."""
        text = incoming.text
        hidden = False
        if text is not None:
            cleaned = redact(text)
            hidden = was_redacted(text, cleaned)
            incoming = Incoming(text=cleaned)
        async with self._turn_lock(conversation_id):
            for _attempt in range(MAX_RETRIES):
                try:
                    return await self._reply_once(
                        conversation_id, incoming, idempotency_key, progress, hidden
                    )
                except Conflict:  # also Duplicate: a racing retry stored this idempotency key first
                    await asyncio.sleep(0.01)  # another process took a turn first: re-read and redo
            raise Conflict(f"conversation {conversation_id} is busy; try again")

    async def _reply_once(
        self,
        conversation_id: str,
        incoming: Incoming,
        idempotency_key: str | None,
        progress: ProgressCallback | None,
        hidden: bool,
    ) -> dict[str, Any]:
        # Optimistic on both databases: read, run the engine (probes may take seconds, holding
        # nothing), then write only if the row is unchanged (store.save); a turn that lost a race is
        # redone on the new state by reply(), or answered from the stored turn if it was a retry.
        async with self.driver.read() as s:
            row, done = await store.load_for_turn(s, conversation_id, idempotency_key)
        if done is not None:
            return done
        pending = await self._compute(row, incoming, idempotency_key, progress, hidden)
        async with self.driver.write() as s:
            await pending.write(s)
        for event in pending.publish:  # after the commit: nobody hears of a turn that was rolled back
            await self.events.publish(conversation_id, event)
        return pending.data

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
            await self.events.publish(conversation_id, {"type": "probe", "probe": result.to_json()})
            if progress is not None:
                await progress(result)

        entered_from, previous = len(conv.path), conv.status
        turn = await self.engine.handle(conv, incoming, progress=report)
        data = turn.to_json()
        if hidden:
            data["messages"].insert(0, {"role": "bot", "type": "text", "text": PRIVACY_NOTICE})

        async def write(s: Session) -> None:
            await store.save(
                s,
                row,
                state=conv.dump(),
                status=conv.status,
                awaiting=data["awaiting"],
                domain=_domain(conv),
            )
            user = [turn.user_message.to_json()] if turn.user_message else []
            await store.add_messages(s, conversation_id, user + data["messages"])
            # The idle sweep had closed it as abandoned and the customer came back: count that.
            before = conv.path[entered_from - 1 : entered_from]
            resumed = _resumed(conv, before) if row.status == "abandoned" else []
            await store.add_events(
                s, resumed + _events(conv, turn, conv.path[entered_from:], previous, incoming=incoming)
            )
            if turn.escalated:
                await self._escalate(s, conv, turn, row.channel, row.customer)
            if idempotency_key:
                await store.remember_turn(s, conversation_id, idempotency_key, data)

        publish = [{"type": "status", "status": conv.status}] if turn.escalated else []
        return _Pending(data, write, publish)

    def _to_agent(
        self, row: store.Row, conv: Conversation, incoming: Incoming, key: str | None, hidden: bool
    ) -> _Pending:
        """While an agent has the conversation the bot stays quiet; the message goes to the agent."""
        message = {
            "role": "user",
            "type": "text",
            "text": incoming.text if incoming.text is not None else str(incoming.choice),
        }
        data: dict[str, Any] = {
            "conversation": conv.id,
            "status": "with_agent",
            "messages": [],
            "awaiting": {"kind": "text", "hint": ""},
        }
        if hidden:
            data["messages"].append({"role": "bot", "type": "text", "text": PRIVACY_NOTICE})

        async def write(s: Session) -> None:
            await store.save(s, row, state=conv.dump(), status=conv.status, awaiting=data["awaiting"])
            await store.add_messages(s, conv.id, [message, *data["messages"]])
            if key:
                await store.remember_turn(s, conv.id, key, data)

        return _Pending(data, write, [{"type": "message", "message": message}])

    async def check_token(self, conversation_id: str, token: str) -> bool:
        given = store.token_hash(token)  # same work whether or not the id exists: no timing hint
        known = self._token_hashes.get(conversation_id)
        if known is None:
            async with self.driver.read() as s:
                known = await store.stored_token_hash(s, conversation_id)
            if known is None:
                return False
            self._know_token(conversation_id, known)
        else:
            self._token_hashes.move_to_end(conversation_id)
        return hmac.compare_digest(known, given)

    def _know_token(self, conversation_id: str, hashed: str) -> None:
        self._token_hashes[conversation_id] = hashed
        if len(self._token_hashes) > KNOWN_TOKENS:
            self._token_hashes.popitem(last=False)

    async def state(self, conversation_id: str) -> Conversation:
        """The engine state as stored now (NotFound when there is no such conversation)."""
        async with self.driver.read() as s:
            return Conversation.load((await store.load(s, conversation_id)).state)

    async def transcript(self, conversation_id: str) -> dict[str, Any]:
        async with self.driver.read() as s:
            row = await store.load(s, conversation_id)
            messages = await store.transcript(s, conversation_id)
        for m in messages:
            m.pop("at", None)
        return {
            "conversation": conversation_id,
            "status": "active" if row.status == "abandoned" else row.status,  # customers see it open
            "messages": messages,
            "awaiting": row.awaiting,
            "agent": row.agent,
        }

    async def find_by_thread(self, channel: str, thread_key: str) -> str | None:
        async with self.driver.read() as s:
            return await store.find_by_thread(s, channel, thread_key)

    async def seen_event(self, key: str) -> bool:
        """True when this event key was processed before (Slack retries); records it otherwise."""
        try:
            async with self.driver.write() as s:
                await store.record_key(s, key)
        except Duplicate:
            return True
        return False

    # -- agents ----------------------------------------------------------------------------------

    async def claim(self, conversation_id: str, agent: str) -> dict[str, Any]:
        agent = redact(agent)[:200] or "An agent"
        note = {
            "role": "bot",
            "type": "handoff",
            "text": f"{agent} from our support team has joined the conversation.",
        }

        def change(conv: Conversation) -> None:
            conv.status = "with_agent"

        await self._agent_change(conversation_id, change, [note], agent=agent)
        await self.events.publish(conversation_id, {"type": "status", "status": "with_agent", "agent": agent})
        await self.events.publish(conversation_id, {"type": "message", "message": note})
        return {"conversation": conversation_id, "status": "with_agent", "agent": agent}

    async def agent_message(self, conversation_id: str, agent: str, text: str) -> dict[str, Any]:
        if not text.strip():
            raise InputError("an agent message needs some text")
        message = {"role": "agent", "type": "text", "text": redact(text), "agent": redact(agent)[:200]}
        await self._agent_change(conversation_id, None, [message])
        await self.events.publish(conversation_id, {"type": "message", "message": message})
        return message

    async def hand_back(self, conversation_id: str, agent: str, step: str | None = None) -> dict[str, Any]:
        async with self._turn_lock(conversation_id):
            for _attempt in range(MAX_RETRIES):
                async with self.driver.read() as s:
                    row = await store.load(s, conversation_id)
                conv = Conversation.load(row.state)
                entered_from, previous = len(conv.path), conv.status
                turn = await self.engine.resume(conv, step)
                data = turn.to_json()
                try:
                    async with self.driver.write() as s:
                        await store.save(
                            s,
                            row,
                            state=conv.dump(),
                            status=conv.status,
                            awaiting=data["awaiting"],
                            agent=None,
                        )
                        await store.add_messages(s, conversation_id, data["messages"])
                        await store.add_events(s, _events(conv, turn, conv.path[entered_from:], previous))
                    break
                except Conflict:
                    await asyncio.sleep(0.01)  # a customer message landed first: re-read and hand back again
            else:
                raise Conflict(f"conversation {conversation_id} is busy; try again")
        await self.events.publish(conversation_id, {"type": "status", "status": conv.status})
        for message in data["messages"]:
            await self.events.publish(conversation_id, {"type": "message", "message": message})
        return data

    async def _agent_change(
        self,
        conversation_id: str,
        change: Any,
        messages: list[dict[str, Any]],
        agent: str | bool | None = False,
    ) -> None:
        async with self._turn_lock(conversation_id):
            for _attempt in range(MAX_RETRIES):
                async with self.driver.read() as s:
                    row = await store.load(s, conversation_id)
                conv = Conversation.load(row.state)
                if change is not None:
                    change(conv)
                try:
                    async with self.driver.write() as s:
                        await store.save(
                            s,
                            row,
                            state=conv.dump(),
                            status=conv.status,
                            awaiting=row.awaiting,
                            agent=agent,
                            counted=False,
                        )
                        await store.add_messages(s, conversation_id, messages)
                    return
                except Conflict:
                    await asyncio.sleep(0.01)
            raise Conflict(f"conversation {conversation_id} is busy; try again")

    # -- escalation ------------------------------------------------------------------------------

    async def _escalate(
        self, s: Session, conv: Conversation, turn: Turn, channel: str, customer: dict[str, Any]
    ) -> None:
        reason = str((turn.escalated or {}).get("reason", "escalated"))
        history = await store.transcript(s, conv.id)
        for m in history:
            m.pop("at", None)
        flow = self.engine.registry.get(conv.flow_id, conv.version)
        packet = build_packet(
            conv, reason=reason, channel=channel, customer=customer, transcript=history, flow_title=flow.title
        )
        escalation_id = await store.add_escalation(s, conv.id, reason, packet)
        await store.enqueue_deliveries(s, escalation_id, self.sinks)


def _domain(conv: Conversation) -> str | None:
    value = conv.slots.get("domain")
    return value if isinstance(value, str) else None


def _resumed(conv: Conversation, at: list[str]) -> list[dict[str, Any]]:
    """The customer came back to a conversation the idle sweep had closed as abandoned."""
    base = {"conversation_id": conv.id, "flow_id": conv.flow_id, "flow_version": conv.version}
    return [{**base, "kind": "resumed", "step": at[0] if at else None, "data": None}]


def _events(
    conv: Conversation,
    turn: Turn,
    entered: list[str],
    previous_status: str | None,
    *,
    started: bool = False,
    incoming: Incoming | None = None,
) -> list[dict[str, Any]]:
    """The analytics events of one turn: steps entered, the answer's kind, probes, endings, feedback."""
    base = {"conversation_id": conv.id, "flow_id": conv.flow_id, "flow_version": conv.version}
    out: list[dict[str, Any]] = []
    if started:
        out.append({**base, "kind": "started", "step": None, "data": None})
    if incoming is not None:
        kind = "choice" if incoming.choice is not None else "text"
        out.append({**base, "kind": "answer", "step": None, "data": {"kind": kind}})
    out.extend({**base, "kind": "step", "step": step, "data": None} for step in entered)
    # Messages the bot did not understand well (already redacted): the support lead's list of misses.
    out.extend(
        {**base, "kind": "missed", "step": m["step"], "data": {k: v for k, v in m.items() if k != "step"}}
        for m in turn.missed
    )
    for message in turn.messages:
        if isinstance(message, Message) and message.probe is not None:
            out.append(
                {
                    **base,
                    "kind": "probe",
                    "step": turn.step,
                    "data": {"id": message.probe.id, "status": message.probe.status},
                }
            )
    if turn.escalated:
        out.append(
            {
                **base,
                "kind": "escalated",
                "step": turn.escalated.get("step"),
                "data": {"reason": turn.escalated.get("reason")},
            }
        )
    if turn.status in ("resolved", "unresolved") and previous_status != turn.status:
        out.append({**base, "kind": "ended", "step": turn.step, "data": {"status": turn.status}})
    if turn.feedback is not None:
        out.append(
            {**base, "kind": "feedback", "step": turn.feedback.get("step"), "data": dict(turn.feedback)}
        )
    return out
