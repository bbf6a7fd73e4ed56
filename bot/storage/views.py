"""Read-only queries for the admin pages and analytics: conversations by filter, one conversation, events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import NotFound
from bot.storage.driver import Driver, in_list, json_value, listed

# Reads only: every write is in store.py, outbox.py or events.py. Each function takes the driver and
# uses one read session (autocommit: each statement sees the latest commit). JSON columns come back
# parsed, rows as dicts named by column.


@dataclass(frozen=True)
class Filters:
    """Which conversations count: by flow, and by when they started (epoch seconds, `until` exclusive)."""

    flow: str | None = None
    since: float | None = None
    until: float | None = None
    status: str | None = None
    domain: str | None = None

    def where(self, first: int = 1) -> tuple[str, list[Any]]:
        """A WHERE clause on `conversations` with its parameters numbered from $first."""
        chosen: list[tuple[str, Any]] = []
        if self.flow:
            chosen.append(("flow_id = ", self.flow))
        if self.since is not None:
            chosen.append(("created_at >= ", self.since))
        if self.until is not None:
            chosen.append(("created_at < ", self.until))
        if self.status:
            chosen.append(("status = ", self.status))
        if self.domain:
            chosen.append(("domain = ", self.domain.strip().lower()))
        if not chosen:
            return "", []
        sql = " AND ".join(f"{test}${first + n}" for n, (test, _) in enumerate(chosen))
        return " WHERE " + sql, [value for _, value in chosen]


def _named(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _select(columns: Sequence[str], table: str) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}"


_LISTED = ("id", "flow_id", "channel", "status", "domain", "turns", "created_at", "updated_at", "customer")


async def page(driver: Driver, filters: Filters, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """How many conversations match, and one page of them, newest first (customer JSON parsed)."""
    where, args = filters.where(1)
    after_page, page_args = filters.where(3)  # $1 and $2 are the page's limit and offset
    async with driver.read() as s:
        counted = await s.one("SELECT count(*) FROM conversations" + where, *args)
        rows = await s.all(
            _select(_LISTED, "conversations")
            + after_page
            + " ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
            limit,
            offset,
            *page_args,
        )
    listed_rows = _named(_LISTED, rows)
    for row in listed_rows:
        row["customer"] = json_value(row["customer"])
    return int(counted[0]) if counted else 0, listed_rows


_ONE = (
    "id",
    "flow_id",
    "flow_version",
    "channel",
    "status",
    "domain",
    "agent",
    "turns",
    "state",
    "customer",
    "created_at",
    "updated_at",
)
_LINE = ("role", "type", "text", "payload", "created_at")
_EVENT = ("kind", "step", "data", "created_at")
_ESCALATION = ("id", "reason", "created_at")


@dataclass(frozen=True)
class OneConversation:
    """A conversation's row (customer parsed, state as stored), transcript lines, events, escalations."""

    row: dict[str, Any]
    lines: list[tuple[Any, ...]]  # role, type, text, payload (JSON text), created_at
    events: list[dict[str, Any]]
    escalations: list[dict[str, Any]]


async def conversation(driver: Driver, conversation_id: str) -> OneConversation:
    async with driver.read() as s:
        found = await s.one(_select(_ONE, "conversations") + " WHERE id = $1", conversation_id)
        if found is None:
            raise NotFound(f"no conversation {conversation_id}")
        lines = await s.all(
            _select(_LINE, "messages") + " WHERE conversation_id = $1 ORDER BY id", conversation_id
        )
        happened = await s.all(
            _select(_EVENT, "events") + " WHERE conversation_id = $1 ORDER BY id", conversation_id
        )
        escalated = await s.all(
            _select(_ESCALATION, "escalations") + " WHERE conversation_id = $1 ORDER BY id", conversation_id
        )
    row = dict(zip(_ONE, found, strict=True))
    row["customer"] = json_value(row["customer"])
    row["state"] = bytes(row["state"])
    events = _named(_EVENT, happened)
    for event in events:
        event["data"] = json_value(event["data"])
    return OneConversation(row, [tuple(line) for line in lines], events, _named(_ESCALATION, escalated))


_COUNTED = ("id", "flow_id", "status", "domain", "turns", "created_at")
_HAPPENED = ("conversation_id", "flow_id", "kind", "step", "data", "created_at")


async def conversations_and_events(
    driver: Driver, filters: Filters, kinds: Sequence[str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The conversations the filters select (oldest first) and their events (all, or these kinds), in
    the order they happened; event data parsed."""
    where, args = filters.where(1)
    if kinds is None:
        of_kinds, chosen, event_args = "", where, args
    else:
        chosen, after = filters.where(2)  # $1 is the kinds
        of_kinds = " AND " + in_list(driver.dialect, "kind", 1)
        event_args = [listed(driver.dialect, kinds), *after]
    async with driver.read() as s:
        convs = await s.all(_select(_COUNTED, "conversations") + where + " ORDER BY created_at, id", *args)
        happened = await s.all(
            _select(_HAPPENED, "events")
            + f" WHERE conversation_id IN (SELECT id FROM conversations{chosen}){of_kinds} ORDER BY id",
            *event_args,
        )
    events = _named(_HAPPENED, happened)
    for event in events:
        event["data"] = json_value(event["data"])
    return _named(_COUNTED, convs), events


_EXPORTED = (
    "id",
    "flow_id",
    "flow_version",
    "channel",
    "status",
    "domain",
    "turns",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Batch:
    """Conversations for the export, with each one's transcript lines and events by conversation id."""

    conversations: list[dict[str, Any]]
    lines: list[dict[str, Any]]  # conversation_id, role, type, text, payload (parsed), created_at
    events: list[dict[str, Any]]  # conversation_id, kind, step, data (parsed), created_at


async def export_batch(driver: Driver, filters: Filters, limit: int, offset: int) -> Batch:
    """One batch of the conversations the filters select, oldest first, with their lines and events."""
    where, args = filters.where(3)
    async with driver.read() as s:
        rows = _named(
            _EXPORTED,
            await s.all(
                _select(_EXPORTED, "conversations") + where + " ORDER BY created_at, id LIMIT $1 OFFSET $2",
                limit,
                offset,
                *args,
            ),
        )
        if not rows:
            return Batch([], [], [])
        ids = listed(s.dialect, [r["id"] for r in rows])
        of_these = " WHERE " + in_list(s.dialect, "conversation_id", 1) + " ORDER BY id"
        line_columns = ("conversation_id", *_LINE)
        lines = _named(line_columns, await s.all(_select(line_columns, "messages") + of_these, ids))
        event_columns = ("conversation_id", *_EVENT)
        events = _named(event_columns, await s.all(_select(event_columns, "events") + of_these, ids))
    for line in lines:
        line["payload"] = json_value(line["payload"])
    for event in events:
        event["data"] = json_value(event["data"])
    return Batch(rows, lines, events)
