"""One vocabulary of analytics events: the stored values stay put, and everything recorded is in it."""

from __future__ import annotations

import time
from pathlib import Path

from bot.analytics.abandon import sweep
from bot.analytics.kinds import EventKind
from bot.bootstrap import build
from bot.engine.model import Incoming
from bot.settings import Settings
from tests.support.analytics import FLOWS, ScriptedProbes
from tests.support.storage import execute, table_rows


def test_the_stored_values_never_change() -> None:
    # Rows written by every earlier release use these strings; exports and warehouses read them.
    assert [k.value for k in EventKind] == [
        "started",
        "answer",
        "step",
        "missed",
        "probe",
        "escalated",
        "ended",
        "feedback",
        "abandoned",
        "resumed",
    ]
    assert EventKind("step") is EventKind.STEP and EventKind.STEP.value == "step"


async def test_service_and_sweep_record_only_kinds_of_the_vocabulary(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", flows_dir=FLOWS)
    parts = await build(settings, probes=ScriptedProbes(), sinks={})
    try:
        svc = parts.service
        left = (await svc.start(None, "web")).conversation_id
        await svc.reply(left, Incoming(text="something the bot will not follow"))
        await execute(parts.driver, "UPDATE conversations SET updated_at = $1", time.time() - 3600)
        assert await sweep(parts.driver, idle_minutes=30) == 1
        await svc.reply(left, Incoming(text="human"))  # back after the sweep, then to a person
        ended = (await svc.start(None, "web")).conversation_id
        for move in (Incoming(choice="login_rejected"), Incoming(choice="yes")):
            await svc.reply(ended, move)
        stored = {str(r.kind) for r in await table_rows(parts.driver, "events")}
    finally:
        await parts.close()
    assert stored <= {k.value for k in EventKind}, stored - {k.value for k in EventKind}
    want = {"started", "answer", "step", "abandoned", "resumed", "escalated", "ended"}
    assert want <= stored, want - stored
