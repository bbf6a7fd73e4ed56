"""Missed messages: "missed" events written through the real store come back grouped per question, counted,
ranked and cut, over the same filters as the other figures, in `stats`, `stats --json` and the text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.analytics.missed import MissedMessage, MissedQuestion, as_json
from bot.analytics.stats import Filters, compute, missed_messages
from bot.bootstrap import Parts, build
from bot.settings import Settings
from tests.support.analytics import FLOW, FLOWS, HOSTILE, Clock, ScriptedProbes, add_events, missed, run_bot

DAY1 = datetime(2024, 3, 1, tzinfo=UTC).timestamp()
DAY2 = DAY1 + 86400
ANSI = "\x1b[31mred\x1b[0m alert"  # a terminal escape sequence pasted by a customer


@dataclass
class Seeded:
    """The conversations the seed started: a, b, c on 1 March, d on 2 March."""

    a: str
    b: str
    c: str
    d: str


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    at = Clock(DAY1)
    monkeypatch.setattr("bot.storage.store.now", at)
    monkeypatch.setattr("bot.storage.events.now", at)  # the events a turn writes
    return at


async def open_parts(database_url: str) -> Parts:
    return await build(
        Settings(database_url=database_url, flows_dir=FLOWS), probes=ScriptedProbes(), sinks={}
    )


@pytest.fixture
async def parts(database_url: str) -> AsyncIterator[Parts]:
    built = await open_parts(database_url)
    yield built
    await built.close()


async def seed(parts: Parts, clock: Clock) -> Seeded:
    """A few customers the bot misunderstood; each event 10 s after the one before (clock.t)."""
    svc = parts.service

    async def start() -> str:
        clock.t += 10
        return (await svc.start(None, "web")).conversation_id

    async def say(*items: dict[str, object]) -> None:
        for item in items:
            clock.t += 10
            await add_events(svc.driver, [item])

    a, b, c = await start(), await start(), await start()
    # The later question is missed first: the report still lists questions in the flow's order.
    await say(missed(c, "ask_limit_kind", "it says quota", "rejected", "daily_limit", 0.55))
    await say(
        missed(a, "ask_symptom", "My Outlook fails to send", "reask"),
        missed(b, "ask_symptom", "  my outlook   FAILS to send\n", "low_confidence", "stuck_outbox", 0.41),
        missed(c, "ask_symptom", "my outlook fails to send", "rejected", "cannot_connect", 0.6),
        missed(a, "ask_symptom", "MY OUTLOOK FAILS TO SEND", "reask", "stuck_outbox", 0.3),
        missed(b, "ask_symptom", f"550 5.7.1 {HOSTILE}", "low_confidence", "blocked_bounce", 0.38),
        missed(c, "ask_symptom", "Outlook error 0x800CCC0E", "shrug"),  # a reason a newer service may add
        missed(a, "old_step", ANSI, "reask"),  # a step no longer in the flow
    )
    # Rows the report must pass over: other kinds, no data, no text, no step.
    await say(
        {**missed(a, "ask_symptom", "x", "reask"), "kind": "answer"},
        {**missed(a, "ask_symptom", "x", "reask"), "data": None},
        missed(b, "ask_symptom", " \n ", "reask"),
        {**missed(b, "ask_symptom", "no step", "reask"), "step": None},
    )
    clock.t = DAY2
    d = await start()
    await say(missed(d, "ask_symptom", "my outlook fails to send", "reask", "stuck_outbox", 0.2))
    return Seeded(a, b, c, d)


def t(n: int) -> float:
    """The time of the seed's n-th write (conversations and events alike) on 1 March."""
    return DAY1 + 10 * n


def everything() -> list[MissedQuestion]:
    """What the seed wrote, grouped by hand: writes 1-3 start a, b, c; events are writes 4-11, then d."""
    outlook = MissedMessage(
        text="my outlook fails to send",  # d's spelling: the last time anyone wrote it
        count=5,
        conversations=4,
        last_seen=DAY2 + 20,
        why={"reask": 3, "rejected": 1, "low_confidence": 1},
        guess="stuck_outbox",
        guesses={"stuck_outbox": 3, "cannot_connect": 1},
    )
    return [
        MissedQuestion(
            flow=FLOW,
            step="ask_symptom",
            missed=7,
            texts=3,
            why={"reask": 3, "rejected": 1, "low_confidence": 2, "shrug": 1},
            messages=(
                outlook,
                # Once each: the most recent first.
                MissedMessage("Outlook error 0x800CCC0E", 1, 1, t(10), {"shrug": 1}, None, {}),
                MissedMessage(
                    f"550 5.7.1 {HOSTILE}",
                    1,
                    1,
                    t(9),
                    {"low_confidence": 1},
                    "blocked_bounce",
                    {"blocked_bounce": 1},
                ),
            ),
        ),
        MissedQuestion(
            flow=FLOW,
            step="ask_limit_kind",
            missed=1,
            texts=1,
            why={"rejected": 1},
            messages=(
                MissedMessage(
                    "it says quota", 1, 1, t(4), {"rejected": 1}, "daily_limit", {"daily_limit": 1}
                ),
            ),
        ),
        MissedQuestion(
            flow=FLOW,
            step="old_step",
            missed=1,
            texts=1,
            why={"reask": 1},
            messages=(MissedMessage(ANSI, 1, 1, t(11), {"reask": 1}, None, {}),),
        ),
    ]


async def test_missed_messages_are_grouped_counted_and_ranked(parts: Parts, clock: Clock) -> None:
    await seed(parts, clock)
    assert await missed_messages(parts.driver, Filters(), parts.registry) == everything()


async def test_the_period_and_flow_filters_apply(parts: Parts, clock: Clock) -> None:
    s = await seed(parts, clock)
    second_day = await missed_messages(parts.driver, Filters(since=DAY2), parts.registry)
    assert second_day == [
        MissedQuestion(
            FLOW,
            "ask_symptom",
            1,
            1,
            {"reask": 1},
            (
                MissedMessage(
                    "my outlook fails to send",
                    1,
                    1,
                    DAY2 + 20,
                    {"reask": 1},
                    "stuck_outbox",
                    {"stuck_outbox": 1},
                ),
            ),
        )
    ]
    first_day = await missed_messages(parts.driver, Filters(flow=FLOW, until=DAY2), parts.registry)
    assert [(q.step, q.missed) for q in first_day] == [
        ("ask_symptom", 6),
        ("ask_limit_kind", 1),
        ("old_step", 1),
    ]
    assert first_day[0].messages[0].text == "MY OUTLOOK FAILS TO SEND"  # a's, the last spelling that day
    assert first_day[0].messages[0].conversations == 3
    assert await missed_messages(parts.driver, Filters(flow="no-such-flow"), parts.registry) == []
    assert await missed_messages(parts.driver, Filters(since=DAY2 + 3600), parts.registry) == []
    # Without the flows loaded, questions come in the order first missed.
    unordered = await missed_messages(parts.driver, Filters())
    assert [q.step for q in unordered] == ["ask_limit_kind", "ask_symptom", "old_step"]
    assert s.d not in (s.a, s.b, s.c)


async def test_each_question_lists_its_most_frequent_texts_only(parts: Parts, clock: Clock) -> None:
    cid = (await parts.service.start(None, "web")).conversation_id
    # Text n is written n times: texts 12..3 are the top ten, then texts 2 and 1 are left out.
    for n in range(1, 13):
        clock.t += 1
        await add_events(parts.service.driver, [missed(cid, "ask_symptom", f"text {n}", "reask")] * n)
    top = await missed_messages(parts.driver, Filters(), parts.registry)
    assert len(top) == 1
    assert (top[0].missed, top[0].texts) == (78, 12)
    assert [(m.text, m.count) for m in top[0].messages] == [(f"text {n}", n) for n in range(12, 2, -1)]
    three = await missed_messages(parts.driver, Filters(), parts.registry, limit=3)
    assert [m.text for m in three[0].messages] == ["text 12", "text 11", "text 10"]
    assert three[0].texts == 12


async def test_every_figure_includes_the_missed_messages(parts: Parts, clock: Clock) -> None:
    await seed(parts, clock)
    figures = await compute(parts.driver, Filters(), parts.registry)
    assert figures["missed"] == as_json(everything())
    assert json.loads(json.dumps(figures["missed"])) == figures["missed"]  # plain JSON, no tuples needed
    assert figures["missed"][0]["messages"][0]["why"] == {"reask": 3, "rejected": 1, "low_confidence": 1}
    cut = await compute(parts.driver, Filters(), parts.registry, missed_limit=1)
    assert [len(q["messages"]) for q in cut["missed"]] == [1, 1, 1]
    # The other figures don't see these events: nobody answered or entered a step through them.
    assert figures["conversations"] == 4
    assert [row["step"] for row in figures["funnel"] if row["entered"]] == ["welcome", "ask_symptom"]


# -- `supportbot stats` ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    db = tmp_path_factory.mktemp("missed") / "missed.db"

    async def run(clock: Clock) -> None:
        built = await open_parts(f"sqlite:///{db}")
        try:
            await seed(built, clock)
        finally:
            await built.close()

    clock = Clock(DAY1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("bot.storage.store.now", clock)
        mp.setattr("bot.storage.events.now", clock)
        asyncio.run(run(clock))
    yield db


def stats(db: Path, *args: str) -> str:
    done = run_bot(db, "stats", "--no-sweep", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_stats_prints_the_missed_messages_per_question(seeded_file: Path) -> None:
    out = stats(seeded_file)
    section = out[out.index("missed messages per question") :].splitlines()
    assert section[1:] == [
        "  ask_symptom (cant-send-email): 7 missed, 3 different texts",
        "        5     4  re-asked 3, rejected 1, low confidence 1 stuck_outbox         2024-03-02 00:00  "
        "my outlook fails to send",
        "        1     1  shrug 1                                  -                    2024-03-01 00:01  "
        "Outlook error 0x800CCC0E",
        "        1     1  low confidence 1                         blocked_bounce       2024-03-01 00:01  "
        f"550 5.7.1 {HOSTILE}",
        "  ask_limit_kind (cant-send-email): 1 missed, 1 different text",
        "        1     1  rejected 1                               daily_limit          2024-03-01 00:00  it says quota",
        "  old_step (cant-send-email): 1 missed, 1 different text",
        "        1     1  re-asked 1                               -                    2024-03-01 00:01  "
        "\\x1b[31mred\\x1b[0m alert",
    ]
    # The customer's escape sequence is shown, not sent to the lead's terminal.
    assert "\x1b" not in out


def test_stats_json_and_top_missed(seeded_file: Path) -> None:
    figures = json.loads(stats(seeded_file, "--json"))
    assert figures["missed"] == as_json(everything())
    one = json.loads(stats(seeded_file, "--json", "--top-missed", "1", "--since", "2024-03-02"))
    assert one["missed"] == as_json(
        [
            MissedQuestion(
                FLOW,
                "ask_symptom",
                1,
                1,
                {"reask": 1},
                (
                    MissedMessage(
                        "my outlook fails to send",
                        1,
                        1,
                        DAY2 + 20,
                        {"reask": 1},
                        "stuck_outbox",
                        {"stuck_outbox": 1},
                    ),
                ),
            )
        ]
    )
    text = stats(seeded_file, "--top-missed", "1")
    assert "Outlook error" not in text and "my outlook fails to send" in text


def test_stats_says_when_nothing_was_missed(seeded_file: Path) -> None:
    out = stats(seeded_file, "--since", "2999-01-01")
    assert out.splitlines()[-2:] == [
        "missed messages per question (times, customers, why, most common guess, last seen, text)",
        "  No missed messages in this period.",
    ]
    assert json.loads(stats(seeded_file, "--json", "--since", "2999-01-01"))["missed"] == []
    bad = run_bot(seeded_file, "stats", "--top-missed", "0")
    assert bad.returncode == 2 and "--top-missed" in bad.stderr
