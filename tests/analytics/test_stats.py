"""A few hundred synthetic customers through the real engine and service; `stats --json` must match what
the test itself recorded doing, figure by figure."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from bot.analytics.abandon import sweep
from bot.bootstrap import build
from bot.engine.model import Incoming
from bot.service import ConversationService
from bot.settings import Settings
from tests.support.analytics import (
    EXHAUSTED,
    FLOW,
    FLOWS,
    HOSTILE,
    Clock,
    Move,
    Record,
    ScriptedProbes,
    expected,
    route,
    run_bot,
)
from tests.support.storage import table_rows

N = 300
DAY1 = datetime(2024, 3, 1, tzinfo=UTC).timestamp()
IDLE = 30.0


async def play(svc: ConversationService, rec: Record, moves: list[Move], clock: Clock) -> None:
    for move in moves:
        clock.t += 7
        turn = await svc.reply(rec.id, move.incoming)
        rec.replies += 1
        if rec.status == "abandoned":
            rec.status, rec.dropped_at = "active", None
            rec.resumed += 1
        rec.path += move.steps
        rec.probes.extend(move.probes)
        if move.escalate:
            rec.escalations.append(move.escalate)
            rec.status = "escalated"
        if move.end:
            rec.end, rec.status = move.end, "resolved"
            rec.resolved_replies = rec.replies
            rec.resolved_seconds = clock.t - rec.started_at
        assert turn.status == rec.status, (rec.id, move, turn)


async def feedback(svc: ConversationService, rec: Record, rng: random.Random, clock: Clock) -> None:
    """At the end step: 👍, 👎 or nothing; sometimes typed; then sometimes a comment with markup in it."""
    rating = rng.choice(["up", "down", None])
    if rating is None:
        return
    typed = rng.random() < 0.3
    incoming = (
        Incoming(text="yes" if rating == "up" else "no") if typed else Incoming(choice=f"feedback_{rating}")
    )
    clock.t += 5
    await svc.reply(rec.id, incoming)
    rec.replies += 1
    rec.rating = rating
    if rng.random() < 0.5:
        clock.t += 5
        await svc.reply(rec.id, Incoming(text=f"more or less {HOSTILE}"))
        rec.replies += 1
        rec.comment = True


def close_idle(records: list[Record]) -> None:
    for rec in records:
        if rec.status == "active":
            rec.status, rec.dropped_at = "abandoned", rec.path[-1]
            rec.abandonments += 1


async def simulate(db_path: Path, clock: Clock) -> list[Record]:
    settings = Settings(database_url=f"sqlite:///{db_path}", flows_dir=FLOWS)
    parts = await build(settings, probes=ScriptedProbes(), sinks={})
    svc = parts.service
    rng = random.Random(9)
    records: list[Record] = []
    later: list[tuple[Record, list[Move], bool]] = []
    try:
        for n in range(N):
            if n == N // 2:
                clock.t = DAY1 + 86400 + 3600  # the second half starts on 2 March
            clock.t += 11
            started = await svc.start(None, "web" if n % 3 else "slack")
            rec = Record(started.conversation_id, clock.t, None)
            records.append(rec)
            moves, domain = route(rng, n)
            rec.domain = domain
            cut = rng.randrange(len(moves)) if rng.random() < 0.3 else len(moves)
            await play(svc, rec, moves[:cut], clock)
            if cut == len(moves):
                if rec.end:
                    await feedback(svc, rec, rng, clock)
            elif rng.random() < 0.5:  # this customer comes back after the idle sweep
                again = (
                    rng.randrange(cut + 1, len(moves))
                    if rng.random() < 0.3 and cut + 1 < len(moves)
                    else len(moves)
                )
                later.append((rec, moves[cut:again], again == len(moves)))
        clock.t += 2 * 3600
        assert await sweep(parts.driver, IDLE, at=clock.t) == sum(r.status == "active" for r in records)
        close_idle(records)
        for rec, moves, finishes in later:
            await play(svc, rec, moves, clock)
            if finishes and rec.end:
                await feedback(svc, rec, rng, clock)
        clock.t += 2 * 3600
        assert await sweep(parts.driver, IDLE, at=clock.t) == sum(r.status == "active" for r in records)
        close_idle(records)
        # The test's record of each path must be what really happened, or the comparison proves nothing.
        rows = {r.id: r for r in await table_rows(parts.driver, "conversations")}
        for rec in records:
            assert rows[rec.id].status == rec.status
            assert orjson.loads(rows[rec.id].state)["path"] == rec.path, rec.id
    finally:
        await parts.close()
    return records


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Record]]]:
    db_path = tmp_path_factory.mktemp("analytics") / "stats.db"
    clock = Clock(DAY1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("bot.storage.store.now", clock)
        mp.setattr("bot.storage.events.now", clock)
        records = asyncio.run(simulate(db_path, clock))
    yield db_path, records


def run_stats(db_path: Path, *args: str) -> dict[str, Any]:
    done = run_bot(db_path, "stats", "--json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def check(actual: dict[str, Any], want: dict[str, Any]) -> None:
    for key in (
        "conversations",
        "status",
        "resolved",
        "unresolved",
        "contained",
        "containment",
        "escalated",
        "escalation_rate",
        "abandoned",
        "abandonments",
        "resumed",
        "median_turns",
        "median_turns_to_resolution",
        "median_seconds_to_resolution",
        "probes",
    ):
        assert actual[key] == want[key], key
    zero = {
        "entered": 0,
        "conversations": 0,
        "next": {},
        "dropped": 0,
        "escalated": 0,
        "ended": 0,
        "drop_rate": None,
    }
    funnel = {row["step"]: row for row in actual["funnel"]}
    assert {s for s, row in funnel.items() if row["entered"]} == set(want["funnel"])
    for step, row in funnel.items():
        assert row["flow"] == FLOW
        got = {k: v for k, v in row.items() if k not in ("flow", "step")}
        assert got == want["funnel"].get(step, zero), step
    reasons: dict[str, int] = {}
    for item in actual["escalation_reasons"]:
        key = EXHAUSTED if item["reason"].startswith(EXHAUSTED) else item["reason"]
        reasons[key] = reasons.get(key, 0) + item["count"]
    assert reasons == want["escalation_reasons"]
    counts = [r["count"] for r in actual["escalation_reasons"]]
    assert counts == sorted(counts, reverse=True)
    assert {
        s["step"]: {k: s[k] for k in ("up", "down", "comments", "score")} for s in actual["satisfaction"]
    } == want["satisfaction"]
    assert {
        (s["probe"], s["status"]): {k: s[k] for k in ("up", "down", "score")}
        for s in actual["satisfaction_by_finding"]
    } == want["satisfaction_by_finding"]


def test_the_simulation_covers_every_kind_of_ending(played: tuple[Path, list[Record]]) -> None:
    _db, records = played
    assert len(records) == N
    kinds = {r.status for r in records}
    assert kinds == {"resolved", "escalated", "abandoned"}
    assert any(r.resumed and r.end for r in records)  # came back after the sweep and got it solved
    assert any(r.abandonments == 2 for r in records)  # came back, then went quiet again
    assert {r.rating for r in records} >= {"up", "down"}
    assert any(r.comment for r in records)
    assert {p for r in records for p in r.probes} == {
        ("mail_host", "pass"),
        ("mail_host", "fail"),
        ("ip_blocklist", "pass"),
        ("ip_blocklist", "fail"),
        ("tls", "pass"),
    }


def test_every_figure_matches_what_the_test_did(played: tuple[Path, list[Record]]) -> None:
    db_path, records = played
    check(run_stats(db_path), expected(records))


def test_flow_filter(played: tuple[Path, list[Record]]) -> None:
    db_path, records = played
    check(run_stats(db_path, "--flow", FLOW), expected(records))
    other = run_stats(db_path, "--flow", "no-such-flow")
    assert other["conversations"] == 0
    assert other["containment"] is None


def test_since_filter_counts_only_conversations_started_since(played: tuple[Path, list[Record]]) -> None:
    db_path, records = played
    second_day = [r for r in records if r.started_at >= DAY1 + 86400]
    assert 0 < len(second_day) < len(records)
    check(run_stats(db_path, "--since", "2024-03-02"), expected(second_day))


def test_text_report_and_bad_date(played: tuple[Path, list[Record]]) -> None:
    db_path, records = played
    done = run_bot(db_path, "stats")
    assert done.returncode == 0, done.stderr
    assert f"conversations          {len(records)}" in done.stdout
    assert "ask_symptom" in done.stdout
    bad = run_bot(db_path, "stats", "--since", "last tuesday")
    assert bad.returncode == 2
    assert "is not a date" in bad.stderr
