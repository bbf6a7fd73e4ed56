"""The support lead's figures: containment, escalations, abandonment, funnel, probes, satisfaction, misses."""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.analytics.kinds import EventKind
from bot.analytics.missed import TOP_MISSED, MissedQuestion, as_json, top_missed
from bot.engine.registry import FlowRegistry
from bot.errors import FlowNotFound
from bot.storage import views
from bot.storage.driver import Driver
from bot.storage.views import Filters as Filters  # it selects in SQL, so it lives with the queries

STATUSES = ("active", "resolved", "unresolved", "escalated", "with_agent", "abandoned")
PROBLEM = ("fail", "warn")  # a probe finding worth a lead's attention (null MX, listed IP, no STARTTLS)
TOP_REASONS = 20


@dataclass(frozen=True)
class Conv:
    id: str
    flow_id: str
    status: str
    domain: str | None
    turns: int
    created_at: float


@dataclass(frozen=True)
class Event:
    conversation_id: str
    flow_id: str
    kind: str
    step: str | None
    data: dict[str, Any] | None
    created_at: float


@dataclass
class _Step:
    entered: int = 0
    conversations: set[str] = field(default_factory=set)
    next: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    escalated: int = 0
    ended: int = 0


async def load(
    driver: Driver, filters: Filters, kinds: Sequence[str] | None = None
) -> tuple[list[Conv], list[Event]]:
    """The conversations the filters select and their events (all, or only these kinds), oldest first."""
    conv_rows, event_rows = await views.conversations_and_events(driver, filters, kinds)
    convs = [
        Conv(r["id"], r["flow_id"], r["status"], r["domain"], int(r["turns"] or 0), float(r["created_at"]))
        for r in conv_rows
    ]
    evs = [
        Event(r["conversation_id"], r["flow_id"], r["kind"], r["step"], r["data"], float(r["created_at"]))
        for r in event_rows
    ]
    return convs, evs


async def compute(
    driver: Driver,
    filters: Filters | None = None,
    registry: FlowRegistry | None = None,
    missed_limit: int = TOP_MISSED,
) -> dict[str, Any]:
    """Every figure of `supportbot stats --json` for the conversations the filters select."""
    filters = filters or Filters()
    convs, evs = await load(driver, filters)
    return figures(convs, evs, step_order(registry, filters.flow, convs), filters, missed_limit)


async def missed_messages(
    driver: Driver,
    filters: Filters | None = None,
    registry: FlowRegistry | None = None,
    limit: int = TOP_MISSED,
) -> list[MissedQuestion]:
    """Per question, the top `limit` texts the bot missed in the conversations the filters select."""
    filters = filters or Filters()
    convs, evs = await load(driver, filters, kinds=(EventKind.MISSED,))
    return top_missed(evs, step_order(registry, filters.flow, convs), limit)


def step_order(
    registry: FlowRegistry | None, flow: str | None, convs: Sequence[Conv]
) -> dict[str, list[str]]:
    """Each flow's steps in the order they are written, so the funnel reads like the flow file."""
    if registry is None:
        return {}
    flows = [flow] if flow else sorted({c.flow_id for c in convs})
    order: dict[str, list[str]] = {}
    for flow_id in flows:
        # A flow no longer loaded: its steps still appear, in the order first seen.
        with contextlib.suppress(FlowNotFound):
            order[flow_id] = list(registry.get(flow_id).steps)
    return order


def figures(
    convs: Sequence[Conv],
    evs: Iterable[Event],
    order: dict[str, list[str]] | None = None,
    filters: Filters | None = None,
    missed_limit: int = TOP_MISSED,
) -> dict[str, Any]:
    evs = list(evs)  # read twice: per conversation here, per question for the missed messages
    by_conv: dict[str, list[Event]] = defaultdict(list)
    for ev in evs:
        by_conv[ev.conversation_id].append(ev)
    info = {c.id: c for c in convs}

    status = Counter({s: 0 for s in STATUSES})
    status.update(c.status for c in convs)
    resolved: set[str] = set()
    unresolved: set[str] = set()
    escalated: set[str] = set()
    reasons: Counter[str] = Counter()
    abandonments = resumed = 0
    steps: dict[tuple[str, str], _Step] = defaultdict(_Step)
    probes: dict[str, dict[str, Any]] = {}
    satisfaction: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    by_finding: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    turns_to_resolution: list[int] = []
    seconds_to_resolution: list[float] = []

    for conv in convs:
        history = by_conv.get(conv.id, [])
        flow = conv.flow_id
        previous: str | None = None
        answers = 0
        findings: set[tuple[str, str]] = set()
        last_abandoned: str | None = None
        for ev in history:
            data = ev.data or {}
            if ev.kind == EventKind.ANSWER:
                answers += 1
            elif ev.kind == EventKind.STEP and ev.step:
                s = steps[(flow, ev.step)]
                s.entered += 1
                s.conversations.add(conv.id)
                if previous is not None:
                    steps[(flow, previous)].next[ev.step] += 1
                previous = ev.step
            elif ev.kind == EventKind.ESCALATED:
                escalated.add(conv.id)
                reasons[str(data.get("reason") or "escalated")] += 1
                if ev.step:
                    steps[(flow, ev.step)].escalated += 1
            elif ev.kind == EventKind.ENDED:
                if ev.step:
                    steps[(flow, ev.step)].ended += 1
                if data.get("status") == "resolved" and conv.id not in resolved:
                    resolved.add(conv.id)
                    turns_to_resolution.append(answers)
                    seconds_to_resolution.append(max(0.0, ev.created_at - conv.created_at))
                elif data.get("status") == "unresolved":
                    unresolved.add(conv.id)
            elif ev.kind == EventKind.PROBE:
                probe_id, probe_status = str(data.get("id")), str(data.get("status"))
                p = probes.setdefault(
                    probe_id, {"runs": 0, "status": Counter(), "checked": set(), "with_problem": set()}
                )
                subject = conv.domain or conv.id  # an IP-only check has no domain: count the conversation
                p["runs"] += 1
                p["status"][probe_status] += 1
                p["checked"].add(subject)
                if probe_status in PROBLEM:
                    p["with_problem"].add(subject)
                findings.add((probe_id, probe_status))
            elif ev.kind == EventKind.FEEDBACK:
                key = (flow, str(ev.step or data.get("step")))
                if "comment" in data:
                    satisfaction[key]["comments"] += 1
                elif data.get("rating") in ("up", "down"):
                    satisfaction[key][str(data["rating"])] += 1
                    for finding in findings:
                        by_finding[finding][str(data["rating"])] += 1
            elif ev.kind == EventKind.ABANDONED:
                abandonments += 1
                last_abandoned = ev.step
            elif ev.kind == EventKind.RESUMED:
                resumed += 1
        if conv.status == "abandoned" and last_abandoned:
            steps[(flow, last_abandoned)].dropped += 1

    contained = resolved - escalated
    total = len(convs)
    return {
        "filters": _filters_json(filters),
        "conversations": total,
        "status": dict(status),
        "resolved": len(resolved),
        "unresolved": len(unresolved),
        "contained": len(contained),
        "containment": _share(len(contained), total),
        "escalated": len(escalated),
        "escalation_rate": _share(len(escalated), total),
        "abandoned": status["abandoned"],
        "abandonments": abandonments,
        "resumed": resumed,
        "median_turns": _median([c.turns for c in convs]),
        "median_turns_to_resolution": _median(turns_to_resolution),
        "median_seconds_to_resolution": _median(seconds_to_resolution),
        "funnel": _funnel(steps, order or {}, info),
        "escalation_reasons": [
            {"reason": r, "count": n}
            for r, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
        ],
        "probes": {
            probe_id: {
                "runs": p["runs"],
                "status": dict(sorted(p["status"].items())),
                "checked": len(p["checked"]),
                "with_problem": len(p["with_problem"]),
                "problem_share": _share(len(p["with_problem"]), len(p["checked"])),
            }
            for probe_id, p in sorted(probes.items())
        },
        "satisfaction": [
            _rating({"flow": flow, "step": step}, counts)
            for (flow, step), counts in sorted(satisfaction.items())
        ],
        "satisfaction_by_finding": [
            _rating({"probe": probe_id, "status": st}, counts)
            for (probe_id, st), counts in sorted(by_finding.items())
        ],
        "missed": as_json(top_missed(evs, order, missed_limit)),
    }


def _funnel(
    steps: dict[tuple[str, str], _Step], order: dict[str, list[str]], info: dict[str, Conv]
) -> list[dict[str, Any]]:
    keys = [(flow, step) for flow, names in order.items() for step in names]
    known = set(keys)
    keys += [key for key in steps if key not in known]  # steps of flows (or versions) not loaded now
    out = []
    for flow, step in keys:
        s = steps.get((flow, step)) or _Step()
        out.append(
            {
                "flow": flow,
                "step": step,
                "entered": s.entered,
                "conversations": len(s.conversations),
                "next": dict(sorted(s.next.items(), key=lambda item: (-item[1], item[0]))),
                "dropped": s.dropped,
                "escalated": s.escalated,
                "ended": s.ended,
                "drop_rate": _share(s.dropped, len(s.conversations)),
            }
        )
    return out


def _rating(head: dict[str, Any], counts: Counter[str]) -> dict[str, Any]:
    up, down = counts["up"], counts["down"]
    return {**head, "up": up, "down": down, "comments": counts["comments"], "score": _share(up, up + down)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 3) if values else None


def _filters_json(filters: Filters | None) -> dict[str, Any]:
    f = filters or Filters()
    return {"flow": f.flow, "since": f.since, "until": f.until}
