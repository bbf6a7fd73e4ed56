"""A conversation's reads and writes in plain SQL: rows, transcript lines, stored turns, events, escalations."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bot.errors import Conflict, NotFound
from bot.storage.database import now
from bot.storage.driver import Session
from bot.storage.events import add as add_events

# The tables are declared in bot/storage/schema.py; these statements name their columns. JSON
# columns travel as text (None as SQL NULL), `state` as bytes.


def token_hash(token: str) -> str:
    # Only the hash is stored: a database dump does not let anyone post into a conversation.
    return hashlib.sha256(token.encode()).hexdigest()


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _unjson(value: str | bytes | None) -> Any:
    return None if value is None else orjson.loads(value)


@dataclass
class Row:
    """A conversation row as the service needs it."""

    id: str
    state: bytes
    status: str
    channel: str
    customer: dict[str, Any]
    token_hash: str
    lock_version: int
    awaiting: dict[str, Any] | None
    agent: str | None


@dataclass(frozen=True)
class Escalation:
    """A hand-over stored with its turn: a new escalation and its deliveries (one per sink, none when
    it is not to be announced), or, with `joins`, a longer packet for that earlier escalation."""

    reason: str
    packet: dict[str, Any]
    sinks: Sequence[str] = ()
    joins: int | None = None


def _row(values: Sequence[Any]) -> Row:
    """A Row from the columns the two loads below select, in this order."""
    id_, state, status, channel, customer, hashed, version, awaiting, agent = values[:9]
    return Row(
        id_, bytes(state), status, channel, _unjson(customer) or {}, hashed, version, _unjson(awaiting), agent
    )


async def load(s: Session, conversation_id: str) -> Row:
    found = await s.one(
        "SELECT c.id, c.state, c.status, c.channel, c.customer, c.token_hash, c.lock_version, c.awaiting, "
        "c.agent FROM conversations c WHERE c.id = $1",
        conversation_id,
    )
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    return _row(found)


async def load_for_turn(
    s: Session, conversation_id: str, key: str | None
) -> tuple[Row, dict[str, Any] | None]:
    """The row, and the answer already stored under this idempotency key (one statement for both)."""
    found = await s.one(
        "SELECT c.id, c.state, c.status, c.channel, c.customer, c.token_hash, c.lock_version, c.awaiting, "
        "c.agent, t.response FROM conversations c "
        "LEFT JOIN turns t ON t.conversation_id = c.id AND t.idempotency_key = $2 WHERE c.id = $1",
        conversation_id,
        (key or "")[:200],
    )
    if found is None:
        raise NotFound(f"no conversation {conversation_id}")
    return _row(found), (_unjson(found[9]) if key else None)


async def stored_token_hash(s: Session, conversation_id: str) -> str | None:
    found = await s.one("SELECT token_hash FROM conversations WHERE id = $1", conversation_id)
    return None if found is None else str(found[0])


async def insert_conversation(
    s: Session,
    *,
    conversation_id: str,
    flow_id: str,
    flow_version: str,
    channel: str,
    thread_key: str | None,
    status: str,
    token: str,
    customer: dict[str, Any],
    state: bytes,
    awaiting: dict[str, Any] | None,
    messages: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    escalation: Escalation | None = None,
) -> None:
    """A new conversation row with its opening transcript lines, events and hand-over: one statement
    on PostgreSQL (as store.save_turn), the inserts in the caller's transaction elsewhere."""
    row = (conversation_id, flow_id, flow_version, channel, thread_key, now())
    rest = (status, token_hash(token), _json(customer), state, _json(awaiting))
    if s.dialect == "postgresql":
        if escalation is None:
            await s.one(_START, *row, *rest, *_arrays(messages, events))
        else:
            await s.one(_START_ESCALATED, *row, *rest, *_arrays(messages, events), *_handover(escalation))
        return
    await s.run(
        "INSERT INTO conversations (id, flow_id, flow_version, channel, thread_key, status, token_hash, "
        "customer, state, awaiting, lock_version, turns, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $7, $8, $9, $10, $11, 0, 0, $6, $6)",
        *row,
        *rest,
    )
    await add_messages(s, conversation_id, messages)
    await add_events(s, events)
    if escalation is not None:
        await _store_escalation(s, conversation_id, escalation)


async def save(
    s: Session,
    row: Row,
    *,
    state: bytes,
    status: str,
    awaiting: dict[str, Any] | None,
    domain: str | None = None,
    agent: str | bool | None = False,
    counted: bool = True,
) -> None:
    """Write the new state only if nobody else did since we read it (else Conflict: retry the turn).

    `domain` None keeps the stored one, `agent` False keeps the stored one, `counted` adds a turn."""
    changed = await s.run(
        "UPDATE conversations SET state = $3, status = $4, awaiting = $5, lock_version = $2 + 1, "
        "updated_at = $6, turns = turns + $7, domain = COALESCE($8, domain), "
        "agent = CASE WHEN $9 THEN $10 ELSE agent END "
        "WHERE id = $1 AND lock_version = $2",
        row.id,
        row.lock_version,
        state,
        status,
        _json(awaiting),
        now(),
        1 if counted else 0,
        domain[:255] if domain else None,
        agent is not False,
        agent if isinstance(agent, str) else None,
    )
    if changed != 1:
        raise Conflict(f"conversation {row.id} changed while this turn ran")


async def save_turn(
    s: Session,
    row: Row,
    *,
    state: bytes,
    status: str,
    awaiting: dict[str, Any] | None,
    domain: str | None = None,
    messages: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
    remember: tuple[str, dict[str, Any]] | None = None,
    escalation: Escalation | None = None,
) -> None:
    """A turn's writes: the new state (only if nobody wrote since we read it, else Conflict), its
    transcript lines and events, the answer under its idempotency key (`remember`) and its hand-over.

    On PostgreSQL this is one statement, atomic by itself: one round trip instead of a transaction's
    six (BEGIN, four writes, COMMIT), which were most of a turn's time in PostgreSQL (bench/README.md);
    a hand-over adds its escalation and deliveries to the same statement (it was five more round
    trips). Elsewhere the same writes run one by one, in the caller's transaction."""
    if s.dialect != "postgresql":
        await save(s, row, state=state, status=status, awaiting=awaiting, domain=domain)
        await add_messages(s, row.id, messages)
        await add_events(s, events)
        if remember is not None:
            await remember_turn(s, row.id, remember[0], remember[1])
        if escalation is not None:
            await _store_escalation(s, row.id, escalation)
        return
    key, response = remember if remember is not None else (None, None)
    found = await s.one(
        _SAVE_TURN if escalation is None else _SAVE_TURN_ESCALATED,
        row.id,
        row.lock_version,
        state,
        status,
        _json(awaiting),
        now(),
        domain[:255] if domain else None,
        *_arrays(messages, events),
        key[:200] if key is not None else None,
        _json(response),
        *(_handover(escalation) if escalation is not None else ()),
    )
    if found is None or found[0] != 1:
        raise Conflict(f"conversation {row.id} changed while this turn ran")


def _rows_after(source: str, first: int) -> str:
    """CTEs inserting a turn's transcript lines and events for the row `source` returned, from one array
    per column ($first.. for lines, then events), in their order, stamped with $6."""
    lines = ", ".join(f"${first + i}::text[]" for i in range(4))
    happened = ", ".join(f"${first + 4 + i}::text[]" for i in range(5))
    # Built once at import from this module's literals (table names, parameter numbers): nothing
    # from outside reaches the SQL text.
    return (
        f" lines AS (INSERT INTO messages (conversation_id, role, type, text, payload, created_at)"  # noqa: S608
        f" SELECT {source}.id, m.role, m.type, m.text, m.payload::json, $6"
        f" FROM {source}, unnest({lines}) WITH ORDINALITY AS m(role, type, text, payload, n) ORDER BY m.n),"
        f" happened AS (INSERT INTO events (conversation_id, flow_id, flow_version, kind, step, data, created_at)"
        f" SELECT {source}.id, e.flow_id, e.flow_version, e.kind, e.step, e.data::json, $6"
        f" FROM {source}, unnest({happened}) WITH ORDINALITY AS e(flow_id, flow_version, kind, step, data, n)"
        " ORDER BY e.n)"
    )


def _arrays(messages: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]) -> list[list[Any]]:
    lines = [_message_row(m) for m in messages]
    return [
        *([line[i] for line in lines] for i in range(4)),
        [e["flow_id"] for e in events],
        [e["flow_version"] for e in events],
        [e["kind"] for e in events],
        [e["step"] for e in events],
        [_json(e["data"]) for e in events],
    ]


# Data-modifying CTEs: the inserts happen only when the UPDATE found the row unchanged (`saved`), and
# the whole statement is one transaction.
_SAVE_TURN = (
    "WITH saved AS ("  # noqa: S608 (literals only, as _rows_after)
    " UPDATE conversations SET state = $3, status = $4, awaiting = $5::json, lock_version = $2 + 1,"
    " updated_at = $6, turns = turns + 1, domain = COALESCE($7, domain)"
    " WHERE id = $1 AND lock_version = $2 RETURNING id)," + _rows_after("saved", 8) + ", answered AS ("
    " INSERT INTO turns (conversation_id, idempotency_key, response, created_at)"
    " SELECT saved.id, $17::varchar, $18::json, $6 FROM saved WHERE $17::varchar IS NOT NULL)"
    " SELECT count(*) FROM saved"
)


def _handed_over(source: str, first: int) -> str:
    """CTEs storing a hand-over for the row `source` returned: a new escalation with one outbox row
    per sink, or (when $first+2 names an escalation) that escalation's longer packet, stamped with $6.
    $first is the reason, $first+1 the packet, $first+3 the sinks."""
    reason, packet, joins, sinks = (f"${first + i}" for i in range(4))
    return (
        f" escalated AS (INSERT INTO escalations (conversation_id, reason, packet, created_at)"  # noqa: S608
        f" SELECT {source}.id, {reason}, {packet}::json, $6 FROM {source} WHERE {joins}::bigint IS NULL"
        " RETURNING id),"
        " queued AS (INSERT INTO outbox (escalation_id, sink, idempotency_key, status, attempts,"
        " next_attempt_at, locked_until, created_at)"
        " SELECT escalated.id, q.sink, 'esc-' || escalated.id || '-' || q.sink, 'pending', 0, $6, 0.0, $6"
        f" FROM escalated, unnest({sinks}::text[]) WITH ORDINALITY AS q(sink, n) ORDER BY q.n),"
        f" joined AS (UPDATE escalations SET packet = {packet}::json FROM {source}"
        f" WHERE escalations.id = {joins}::bigint)"
    )


def _handover(escalation: Escalation) -> tuple[Any, ...]:
    """The parameters of `_handed_over`."""
    return escalation.reason, _json(escalation.packet), escalation.joins, list(escalation.sinks)


async def _store_escalation(s: Session, conversation_id: str, escalation: Escalation) -> None:
    """A hand-over's writes one by one (SQLite), in the caller's transaction."""
    if escalation.joins is not None:
        await update_escalation(s, escalation.joins, escalation.packet)
        return
    escalation_id = await add_escalation(s, conversation_id, escalation.reason, escalation.packet)
    if escalation.sinks:
        await enqueue_deliveries(s, escalation_id, escalation.sinks)


# The same statements with a hand-over's CTEs (literals only, as above).
_SAVE_TURN_ESCALATED = _SAVE_TURN.replace(
    " SELECT count(*) FROM saved",
    "," + _handed_over("saved", 19) + " SELECT count(*) FROM saved",  # noqa: S608
)

# A new conversation with its opening lines and events, as one statement.
_START = (
    "WITH started AS ("  # noqa: S608 (literals only, as _rows_after)
    " INSERT INTO conversations (id, flow_id, flow_version, channel, thread_key, status, token_hash,"
    " customer, state, awaiting, lock_version, turns, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $7, $8, $9::json, $10, $11::json, 0, 0, $6, $6) RETURNING id),"
    + _rows_after("started", 12)
    + " SELECT count(*) FROM started"
)
_START_ESCALATED = _START.replace(
    " SELECT count(*) FROM started",
    "," + _handed_over("started", 21) + " SELECT count(*) FROM started",  # noqa: S608
)


def _message_row(m: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """A transcript line's columns: role, type, text, and the rest as JSON."""
    extra = {k: v for k, v in m.items() if k not in ("role", "type", "text")}
    return m["role"], m.get("type", "text"), m.get("text", ""), _json(extra or None)


async def add_messages(s: Session, conversation_id: str, items: Sequence[dict[str, Any]]) -> None:
    if not items:
        return
    t = now()
    await s.many(
        "INSERT INTO messages (conversation_id, role, type, text, payload, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [(conversation_id, *_message_row(m), t) for m in items],
    )


def message_dict(role: str, type_: str, text: str, payload: Any, created_at: float) -> dict[str, Any]:
    """One transcript line as the API shows it; `payload` is the stored JSON (text or parsed)."""
    item: dict[str, Any] = {"role": role, "type": type_, "text": text}
    extra = _unjson(payload) if isinstance(payload, (str, bytes)) else payload
    if extra:
        item.update(extra)
    item["at"] = created_at
    return item


def as_stored(m: dict[str, Any]) -> dict[str, Any]:
    """A transcript line about to be written, as `transcript` will read it back (without its time)."""
    role, type_, text, payload = _message_row(m)
    item = message_dict(role, type_, text, payload, 0.0)
    del item["at"]
    return item


async def transcript(s: Session, conversation_id: str) -> list[dict[str, Any]]:
    rows = await s.all(
        "SELECT role, type, text, payload, created_at FROM messages WHERE conversation_id = $1 ORDER BY id",
        conversation_id,
    )
    return [message_dict(*r) for r in rows]


async def looking_back(
    s: Session, conversation_id: str, since: float
) -> tuple[int | None, list[dict[str, Any]]]:
    """The id of the conversation's newest escalation made at or after `since`, and
    its transcript (as transcript): one round trip for what an escalating turn reads."""
    rows = await s.all(
        "SELECT r.id, m.role, m.type, m.text, m.payload, m.created_at FROM (SELECT (SELECT id FROM "
        "escalations WHERE conversation_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT 1) AS id) r "
        "LEFT JOIN messages m ON m.conversation_id = $1 ORDER BY m.id",
        conversation_id,
        since,
    )
    recent = rows[0][0] if rows else None
    lines = [message_dict(*r[1:]) for r in rows if r[1] is not None]
    return (int(recent) if recent is not None else None), lines


async def remember_turn(s: Session, conversation_id: str, key: str, response: dict[str, Any]) -> None:
    await s.run(
        "INSERT INTO turns (conversation_id, idempotency_key, response, created_at) VALUES ($1, $2, $3, $4)",
        conversation_id,
        key[:200],
        _json(response),
        now(),
    )


async def add_escalation(s: Session, conversation_id: str, reason: str, packet: dict[str, Any]) -> int:
    found = await s.one(
        "INSERT INTO escalations (conversation_id, reason, packet, created_at) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        conversation_id,
        reason,
        _json(packet),
        now(),
    )
    assert found is not None
    return int(found[0])


async def update_escalation(s: Session, escalation_id: int, packet: dict[str, Any]) -> None:
    await s.run("UPDATE escalations SET packet = $1 WHERE id = $2", _json(packet), escalation_id)


async def enqueue_deliveries(s: Session, escalation_id: int, sinks: Sequence[str]) -> None:
    """The outbox rows of an escalation, in its turn's transaction: one per sink, so each is delivered
    (and retried) on its own; bot.escalation.outbox leases and marks them."""
    t = now()
    await s.many(
        "INSERT INTO outbox (escalation_id, sink, idempotency_key, status, attempts, next_attempt_at, "
        "locked_until, created_at) VALUES ($1, $2, $3, 'pending', 0, $4, 0.0, $4)",
        [(escalation_id, sink, f"esc-{escalation_id}-{sink}", t) for sink in sinks],
    )


async def find_by_thread(s: Session, channel: str, thread_key: str) -> str | None:
    found = await s.one(
        "SELECT id FROM conversations WHERE channel = $1 AND thread_key = $2", channel, thread_key
    )
    return str(found[0]) if found is not None else None


async def record_key(s: Session, key: str) -> None:
    """Record a processed event's key; Duplicate when it was recorded before (the unique key decides)."""
    await s.run("INSERT INTO processed_events (key, created_at) VALUES ($1, $2)", key[:200], now())


# -- The idle sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Idle:
    """An active conversation nobody wrote to since the cutoff, as the sweep needs it."""

    id: str
    flow_id: str
    flow_version: str
    state: bytes
    lock_version: int


async def idle(s: Session, cutoff: float) -> list[Idle]:
    """Active conversations last written before `cutoff`."""
    rows = await s.all(
        "SELECT id, flow_id, flow_version, state, lock_version FROM conversations "
        "WHERE status = 'active' AND updated_at < $1",
        cutoff,
    )
    return [Idle(r[0], r[1], r[2], bytes(r[3]), int(r[4])) for r in rows]


async def close_idle(s: Session, found: Idle, status: str) -> bool:
    """Set the status of an idle conversation unless a turn wrote it since it was found; True if set.

    Bumping lock_version makes a turn that read the row before this retry on the new row, so it sees
    the closing and records the resumption instead of silently undoing it."""
    changed = await s.run(
        "UPDATE conversations SET status = $3, lock_version = $2 + 1 "
        "WHERE id = $1 AND lock_version = $2 AND status = 'active'",
        found.id,
        found.lock_version,
        status,
    )
    return changed == 1
