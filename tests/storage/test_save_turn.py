"""A turn's writes land together or not at all: the row, transcript lines and events in order, the answer."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import Conflict, Duplicate
from bot.storage import store
from bot.storage.driver import Driver
from tests.support.storage import running_parts

LINES: list[dict[str, Any]] = [
    {"role": "user", "type": "text", "text": "it bounces"},
    {
        "role": "bot",
        "type": "probe",
        "text": "Port 25 answered.",
        "probe": {"id": "smtp_25", "status": "pass"},
    },
    {"role": "bot", "type": "text", "text": "Which domain?"},
]


def events(cid: str, *steps: str) -> list[dict[str, Any]]:
    base = {"conversation_id": cid, "flow_id": "cant-send-email", "flow_version": "1"}
    return [{**base, "kind": "answer", "step": None, "data": {"kind": "text"}}] + [
        {**base, "kind": "step", "step": step, "data": None} for step in steps
    ]


async def counts(driver: Driver, cid: str) -> tuple[int, int, int]:
    async with driver.read() as s:
        found = await s.one(
            "SELECT (SELECT count(*) FROM messages WHERE conversation_id = $1), "
            "(SELECT count(*) FROM events WHERE conversation_id = $1), "
            "(SELECT count(*) FROM turns WHERE conversation_id = $1)",
            cid,
        )
    assert found is not None
    return int(found[0]), int(found[1]), int(found[2])


async def test_a_turn_is_saved_with_its_lines_events_and_answer_in_order(database_url: str) -> None:
    async with running_parts(database_url) as parts:
        driver = parts.service.driver
        cid = (await parts.service.start(None, "web")).conversation_id
        async with driver.read() as s:
            row = await store.load(s, cid)
            before = await counts(driver, cid)
        async with driver.single() as s:
            await store.save_turn(
                s,
                row,
                state=b'{"step": "ask_domain"}',
                status="active",
                awaiting={"kind": "text", "hint": "your domain"},
                domain="example.com",
                messages=LINES,
                events=events(cid, "ask_port", "ask_domain"),
                remember=("key-1", {"status": "active"}),
            )
        async with driver.read() as s:
            saved = await store.load(s, cid)
            lines = await store.transcript(s, cid)
            steps = await s.all("SELECT kind, step FROM events WHERE conversation_id = $1 ORDER BY id", cid)
            _, answer = await store.load_for_turn(s, cid, "key-1")
        assert (saved.state, saved.lock_version, saved.awaiting) == (
            b'{"step": "ask_domain"}',
            row.lock_version + 1,
            {"kind": "text", "hint": "your domain"},
        )
        assert [line["text"] for line in lines[-3:]] == [m["text"] for m in LINES]
        assert lines[-2]["probe"] == {"id": "smtp_25", "status": "pass"}
        assert [tuple(e) for e in steps[-3:]] == [
            ("answer", None),
            ("step", "ask_port"),
            ("step", "ask_domain"),
        ]
        assert answer == {"status": "active"}
        assert await counts(driver, cid) == (before[0] + 3, before[1] + 3, before[2] + 1)


@pytest.mark.parametrize("race", ["stale row", "answer already stored"])
async def test_a_turn_that_cannot_be_saved_writes_nothing(database_url: str, race: str) -> None:
    async with running_parts(database_url) as parts:
        driver = parts.service.driver
        cid = (await parts.service.start(None, "web")).conversation_id
        async with driver.read() as s:
            row = await store.load(s, cid)

        async def save(current: store.Row, key: str) -> None:
            async with driver.single() as s:
                await store.save_turn(
                    s,
                    current,
                    state=b"{}",
                    status="active",
                    awaiting=None,
                    messages=LINES,
                    events=events(cid, "ask_port"),
                    remember=(key, {"n": 1}),
                )

        await save(row, "first")
        before = await counts(driver, cid)
        if race == "stale row":
            with pytest.raises(Conflict):
                await save(row, "second")  # read before the first save: someone else wrote since
        else:
            async with driver.read() as s:
                fresh = await store.load(s, cid)
            with pytest.raises(Duplicate):
                await save(fresh, "first")
        assert await counts(driver, cid) == before
