"""`supportbot export`: one JSON line per conversation with its redacted transcript and its events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.analytics.periods import parse_when
from bot.bootstrap import build
from bot.engine.model import Incoming
from bot.settings import Settings
from tests.support.analytics import FLOWS, ScriptedProbes, run_bot


async def seed(db: Path) -> list[str]:
    parts = await build(
        Settings(database_url=f"sqlite:///{db}", flows_dir=FLOWS), probes=ScriptedProbes(), sinks={}
    )
    try:
        ids = []
        for _ in range(3):
            started = await parts.service.start(None, "web")
            ids.append(started.conversation_id)
        await parts.service.reply(ids[0], Incoming(text="my password is hunter2 and it says login failed"))
    finally:
        await parts.close()
    return ids


def test_export_writes_transcripts_and_events(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    ids = asyncio.run(seed(db))
    out = tmp_path / "out.jsonl"
    done = run_bot(db, "export", "--since", "2000-01-01", "-o", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["conversation"] for r in lines] == ids
    first = lines[0]
    assert first["flow"] == "cant-send-email" and first["channel"] == "web"
    assert "customer" not in first and "token_hash" not in first
    said = [m["text"] for m in first["messages"] if m["role"] == "user"]
    assert said and "hunter2" not in json.dumps(first)
    assert [e["kind"] for e in first["events"]][:2] == ["started", "step"]
    future = run_bot(db, "export", "--since", "2999-01-01")
    assert future.returncode == 0 and future.stdout == ""


def test_dates() -> None:
    assert parse_when("2024-03-02") == 1709337600.0
    assert parse_when("2024-03-02T01:00+01:00") == 1709337600.0
    assert parse_when("7d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400
    assert parse_when("12h", now=100_000.0) == 100_000.0 - 12 * 3600
