"""The messages the bot did not understand, grouped per question, for a lead to add as examples."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bot.analytics.kinds import EventKind

# Why a turn counts as missed: the question was asked again; the customer said "No, something else"
# to the bot's confirmation; the bot went on, but its classifier was not sure.
WHYS = ("reask", "rejected", "low_confidence")
WHY_LABELS = {"reask": "re-asked", "rejected": "rejected", "low_confidence": "low confidence"}
TOP_MISSED = 10  # texts listed per question
MAX_TEXT = 300  # the service stores at most this much; older or foreign rows are cut here too


class MissedEvent(Protocol):
    """What is read of an event row (bot.analytics.stats.Event has these)."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def flow_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def step(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any] | None: ...
    @property
    def created_at(self) -> float: ...


@dataclass(frozen=True)
class MissedMessage:
    """One text (grouped ignoring case and spacing) and how the bot fared with it."""

    text: str  # as the customer wrote it the last time
    count: int
    conversations: int  # how many conversations wrote it: one customer repeating it counts once
    last_seen: float  # epoch seconds
    why: dict[str, int]  # reask / rejected / low_confidence -> times, in that order
    guess: str | None  # the choice the bot leaned to most often, None when it never had a guess
    guesses: dict[str, int]  # every guess -> times, most frequent first


@dataclass(frozen=True)
class MissedQuestion:
    """One question of one flow: how often it missed, and its most frequent missed texts."""

    flow: str
    step: str
    missed: int  # missed turns at this question
    texts: int  # different texts among them (more than `messages` holds when the list is cut)
    why: dict[str, int]
    messages: tuple[MissedMessage, ...]


@dataclass
class _Tally:
    text: str
    last_seen: float
    count: int = 0
    conversations: set[str] = field(default_factory=set)
    why: Counter[str] = field(default_factory=Counter)
    guesses: Counter[str] = field(default_factory=Counter)


def normalise(text: str) -> str:
    """The grouping key: "Outlook  FAILS\\n" and "outlook fails" are the same message."""
    return " ".join(text.split()).casefold()


def top_missed(
    events: Iterable[MissedEvent],
    order: Mapping[str, Sequence[str]] | None = None,
    limit: int = TOP_MISSED,
) -> list[MissedQuestion]:
    """Per question, the `limit` most frequent missed texts (then the most recent first).

    Questions follow `order` (each flow's steps as written, see stats.step_order); questions of flows
    or steps not in it follow in the order first seen. Events of other kinds, or without a text, are
    skipped, so rows written by an older or newer service never break the report.
    """
    tallies: dict[tuple[str, str], dict[str, _Tally]] = defaultdict(dict)
    for ev in events:
        data = ev.data
        if ev.kind != EventKind.MISSED or not ev.step or not isinstance(data, dict):
            continue
        text = str(data.get("text") or "")[:MAX_TEXT]
        key = normalise(text)
        if not key:
            continue
        by_text = tallies[(ev.flow_id, ev.step)]
        t = by_text.get(key)
        if t is None:
            t = by_text[key] = _Tally(text, ev.created_at)
        elif ev.created_at >= t.last_seen:
            t.text, t.last_seen = text, ev.created_at
        t.count += 1
        t.conversations.add(ev.conversation_id)
        t.why[str(data.get("why") or "unknown")] += 1
        if data.get("guess"):
            t.guesses[str(data["guess"])] += 1

    keys = [
        (flow, step) for flow, steps in (order or {}).items() for step in steps if (flow, step) in tallies
    ]
    listed = set(keys)
    keys += [key for key in tallies if key not in listed]
    return [_question(flow, step, tallies[(flow, step)], limit) for flow, step in keys]


def as_json(questions: Iterable[MissedQuestion]) -> list[dict[str, Any]]:
    """The report as `stats --json` and /admin/stats.json print it."""
    return [{**asdict(q), "messages": [asdict(m) for m in q.messages]} for q in questions]


def _question(flow: str, step: str, by_text: dict[str, _Tally], limit: int) -> MissedQuestion:
    ranked = sorted(by_text.values(), key=lambda t: (-t.count, -t.last_seen, normalise(t.text)))
    why: Counter[str] = Counter()
    for t in by_text.values():
        why.update(t.why)
    return MissedQuestion(
        flow=flow,
        step=step,
        missed=sum(t.count for t in by_text.values()),
        texts=len(by_text),
        why=_whys(why),
        messages=tuple(_message(t) for t in ranked[: max(0, limit)]),
    )


def _message(t: _Tally) -> MissedMessage:
    guesses = dict(sorted(t.guesses.items(), key=lambda item: (-item[1], item[0])))
    return MissedMessage(
        text=t.text,
        count=t.count,
        conversations=len(t.conversations),
        last_seen=t.last_seen,
        why=_whys(t.why),
        guess=next(iter(guesses), None),
        guesses=guesses,
    )


def _whys(counts: Counter[str]) -> dict[str, int]:
    """The known reasons in their fixed order, then any other a newer service wrote, by name."""
    known = {w: counts[w] for w in WHYS if counts[w]}
    return known | {w: n for w, n in sorted(counts.items()) if w not in WHYS and n}
