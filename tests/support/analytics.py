"""Synthetic customers for the analytics tests: scripted routes through the reference flow, and a record
of what each one did, kept by the test itself so the expected figures never come from the database."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.model import Incoming
from bot.engine.probing import FixtureProbes, ProbeResult, ProgressCallback
from bot.storage import events
from bot.storage.driver import Driver

FLOWS = Path(__file__).resolve().parents[2] / "flows"
FLOW = "cant-send-email"
HOSTILE = "<script>alert('x')</script>"
EXHAUSTED = "We went through every usual cause"


class ScriptedProbes(FixtureProbes):
    """Results chosen by argument: domains starting `nohost` have no mail host, IPs ending .66 are listed."""

    def __init__(self) -> None:
        super().__init__({})

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        self.calls.append((check, dict(args)))
        if check == "mail_host":
            bad = args.get("domain", "").startswith("nohost")
            result = ProbeResult(check, "fail" if bad else "pass", "no mail host" if bad else "found", {})
        elif check == "ip_blocklist":
            listed = args.get("ip", "").endswith(".66")
            summary = "Listed on zen.spamhaus.org." if listed else "Not listed."
            result = ProbeResult(check, "fail" if listed else "pass", summary, {})
        else:
            result = ProbeResult(check, "pass", "ok", {})
        if progress is not None:
            await progress(result)
        return result


def run_bot(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` on the SQLite file `db` with the reference flows, as a lead would run it."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SUPPORTBOT_FLOWS": str(FLOWS)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def missed(
    conversation_id: str,
    step: str,
    text: str,
    why: str,
    guess: str | None = None,
    score: float | None = None,
    flow: str = FLOW,
) -> dict[str, Any]:
    """A "missed" event as the service records it (a turn the bot did not understand well)."""
    return {
        "conversation_id": conversation_id,
        "flow_id": flow,
        "flow_version": "1",
        "kind": "missed",
        "step": step,
        "data": {"text": text, "why": why, "guess": guess, "score": score},
    }


async def add_events(driver: Driver, items: list[dict[str, Any]]) -> None:
    """Write events through the real store, in one transaction, as a turn does."""
    async with driver.write() as s:
        await events.add(s, items)


@dataclass
class Move:
    """One customer reply and what the test expects it to cause."""

    incoming: Incoming
    steps: list[str]
    probes: tuple[tuple[str, str], ...] = ()  # (check, status) of each probe it runs, in order
    escalate: tuple[str, str] | None = None  # (step, reason or reason prefix)
    end: str | None = None  # the resolved end step reached


def choice(c: str, steps: list[str], **kw: Any) -> Move:
    return Move(Incoming(choice=c), steps, **kw)


def text(t: str, steps: list[str], **kw: Any) -> Move:
    return Move(Incoming(text=t), steps, **kw)


def human(step: str) -> Move:
    return text("talk to a human", [], escalate=(step, f"The customer asked for a person at step {step}."))


def route(rng: random.Random, n: int) -> tuple[list[Move], str | None]:
    """A random route through the flow; returns the moves and the domain the customer gives (if any)."""
    kind = rng.choice(["login", "firewall", "server", "server", "blocklist", "blocklist", "human"])
    if kind == "login":
        return [
            choice("login_rejected", ["fix_account_details", "ask_fixed_account"]),
            choice("yes", ["end_resolved"], end="end_resolved"),
        ], None
    if kind == "firewall":
        return [
            choice("stuck_outbox", ["fix_firewall", "ask_fixed_firewall"]),
            choice("yes", ["end_resolved_firewall"], end="end_resolved_firewall"),
        ], None
    if kind == "server":
        ok = rng.random() < 0.6
        domain = f"{'shop' if ok else 'nohost'}{n % 40}.example"
        fix = "fix_server_name" if ok else "fix_use_provider_host"
        moves = [
            choice("server_settings", ["server_need_domain", "ask_domain_for_server"]),
            text(domain, ["offer_server_probe"]),
            choice(
                "yes",
                # A mail host that exists has its certificate checked too (the scripted one passes).
                ["probe_mail_host", *(["probe_server_certificate"] if ok else []), fix, "ask_fixed_server"],
                probes=(("mail_host", "pass" if ok else "fail"), *([("tls", "pass")] if ok else [])),
            ),
        ]
        if rng.random() < 0.5:
            moves.append(choice("yes", ["end_resolved"], end="end_resolved"))
        else:
            moves += [
                choice("no", ["fix_firewall", "ask_fixed_firewall"]),
                choice("no", ["ask_limit_kind"]),
                human("ask_limit_kind"),
            ]
        return moves, domain
    if kind == "blocklist":
        listed = rng.random() < 0.5
        ip = f"203.0.113.{66 if listed else rng.randint(1, 60)}"
        moves = [
            choice("blocked_bounce", ["blocklist_start", "ask_ip_consent"]),
            choice("yes", ["ip_known_branch", "ask_ip"]),
        ]
        if not listed:
            moves.append(
                text(
                    ip,
                    ["probe_blocklist", "not_listed", "sender_spf_branch", "escalate_exhausted"],
                    probes=(("ip_blocklist", "pass"),),
                    escalate=("escalate_exhausted", EXHAUSTED),
                )
            )
            return moves, None
        moves.append(
            text(
                ip,
                ["probe_blocklist", "fix_delist", "ask_fixed_blocklist"],
                probes=(("ip_blocklist", "fail"),),
            )
        )
        if rng.random() < 0.6:
            moves.append(choice("yes", ["end_resolved"], end="end_resolved"))
        else:
            moves.append(choice("no", ["escalate_exhausted"], escalate=("escalate_exhausted", EXHAUSTED)))
        return moves, None
    return [human("ask_symptom")], None


@dataclass
class Record:
    """What the test did with one conversation, and what it therefore expects."""

    id: str
    started_at: float
    domain: str | None
    path: list[str] = field(default_factory=lambda: ["welcome", "ask_symptom"])
    replies: int = 0
    status: str = "active"
    escalations: list[tuple[str, str]] = field(default_factory=list)
    end: str | None = None
    resolved_replies: int | None = None
    resolved_seconds: float | None = None
    probes: list[tuple[str, str]] = field(default_factory=list)
    rating: str | None = None
    comment: bool = False
    abandonments: int = 0
    resumed: int = 0
    dropped_at: str | None = None


class Clock:
    """The time the store writes: the test moves it, so durations are known exactly."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(values: list[float]) -> float | None:
    return round(float(statistics.median(values)), 3) if values else None


def expected(records: list[Record]) -> dict[str, Any]:
    """Every figure of `stats --json`, from the test's own records."""
    status = Counter(
        {s: 0 for s in ("active", "resolved", "unresolved", "escalated", "with_agent", "abandoned")}
    )
    status.update(r.status for r in records)
    resolved = [r for r in records if r.end]
    escalated = [r for r in records if r.escalations]
    contained = [r for r in resolved if not r.escalations]
    steps: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "entered": 0,
            "conversations": set(),
            "next": Counter(),
            "dropped": 0,
            "escalated": 0,
            "ended": 0,
        }
    )
    reasons: Counter[str] = Counter()
    probes: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"runs": 0, "status": Counter(), "checked": set(), "bad": set()}
    )
    satisfaction: dict[str, Counter[str]] = defaultdict(Counter)
    by_finding: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in records:
        for i, step in enumerate(r.path):
            steps[step]["entered"] += 1
            steps[step]["conversations"].add(r.id)
            if i + 1 < len(r.path):
                steps[step]["next"][r.path[i + 1]] += 1
        for step, reason in r.escalations:
            steps[step]["escalated"] += 1
            reasons[reason] += 1
        if r.end:
            steps[r.end]["ended"] += 1
        if r.status == "abandoned":
            assert r.dropped_at is not None
            steps[r.dropped_at]["dropped"] += 1
        for probe_id, st in r.probes:
            p = probes[probe_id]
            p["runs"] += 1
            p["status"][st] += 1
            p["checked"].add(r.domain or r.id)
            if st in ("fail", "warn"):
                p["bad"].add(r.domain or r.id)
        if r.rating:
            assert r.end is not None
            satisfaction[r.end][r.rating] += 1
            for finding in set(r.probes):
                by_finding[finding][r.rating] += 1
        if r.comment:
            assert r.end is not None
            satisfaction[r.end]["comments"] += 1
    total = len(records)
    return {
        "conversations": total,
        "status": dict(status),
        "resolved": len(resolved),
        "unresolved": 0,
        "contained": len(contained),
        "containment": _share(len(contained), total),
        "escalated": len(escalated),
        "escalation_rate": _share(len(escalated), total),
        "abandoned": status["abandoned"],
        "abandonments": sum(r.abandonments for r in records),
        "resumed": sum(r.resumed for r in records),
        "median_turns": _median([r.replies for r in records]),
        "median_turns_to_resolution": _median([r.resolved_replies for r in resolved if r.resolved_replies]),
        "median_seconds_to_resolution": _median(
            [r.resolved_seconds for r in resolved if r.resolved_seconds is not None]
        ),
        "funnel": {
            step: {
                "entered": s["entered"],
                "conversations": len(s["conversations"]),
                "next": dict(s["next"]),
                "dropped": s["dropped"],
                "escalated": s["escalated"],
                "ended": s["ended"],
                "drop_rate": _share(s["dropped"], len(s["conversations"])),
            }
            for step, s in steps.items()
        },
        "escalation_reasons": dict(reasons),
        "probes": {
            probe_id: {
                "runs": p["runs"],
                "status": dict(p["status"]),
                "checked": len(p["checked"]),
                "with_problem": len(p["bad"]),
                "problem_share": _share(len(p["bad"]), len(p["checked"])),
            }
            for probe_id, p in probes.items()
        },
        "satisfaction": {
            step: {
                "up": c["up"],
                "down": c["down"],
                "comments": c["comments"],
                "score": _share(c["up"], c["up"] + c["down"]),
            }
            for step, c in satisfaction.items()
        },
        "satisfaction_by_finding": {
            finding: {"up": c["up"], "down": c["down"], "score": _share(c["up"], c["up"] + c["down"])}
            for finding, c in by_finding.items()
        },
    }
