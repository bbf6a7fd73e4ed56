"""The idle sweep: only quiet active conversations close, an agent's are left alone, a customer who comes
back resumes where they stopped, and a turn racing the sweep is never lost."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.analytics.abandon import sweep
from bot.bootstrap import Parts, build
from bot.engine.model import Incoming
from bot.settings import Settings
from tests.support.analytics import FLOWS, ScriptedProbes
from tests.support.storage import execute, table_rows


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    built = await build(
        Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", flows_dir=FLOWS),
        probes=ScriptedProbes(),
        sinks={},
    )
    yield built
    await built.close()


async def status_of(parts: Parts, conversation_id: str) -> str:
    [row] = await table_rows(parts.driver, "conversations", "WHERE id = $1", conversation_id)
    return str(row.status)


async def kinds(parts: Parts, conversation_id: str) -> list[tuple[str, str | None]]:
    rows = await table_rows(parts.driver, "events", "WHERE conversation_id = $1", conversation_id)
    return [(r.kind, r.step) for r in rows]


async def test_idle_conversations_close_and_resume(parts: Parts) -> None:
    svc = parts.service
    quiet = await svc.start(None, "web")
    await svc.reply(quiet.conversation_id, Incoming(choice="login_rejected"))
    fresh = await svc.start(None, "web")
    done = await svc.start(None, "web")
    await svc.reply(done.conversation_id, Incoming(text="talk to a human"))
    agent = await svc.start(None, "slack")
    await svc.claim(agent.conversation_id, "Sam")

    later = time.time() + 31 * 60
    # `fresh` spoke a minute ago; the others half an hour ago
    await execute(
        parts.driver,
        "UPDATE conversations SET updated_at = $2 WHERE id = $1",
        fresh.conversation_id,
        later - 60,
    )
    assert await sweep(parts.driver, 30, at=later) == 1
    assert await status_of(parts, quiet.conversation_id) == "abandoned"
    assert await status_of(parts, fresh.conversation_id) == "active"
    assert await status_of(parts, done.conversation_id) == "escalated"
    assert await status_of(parts, agent.conversation_id) == "with_agent"
    assert ("abandoned", "ask_fixed_account") in await kinds(parts, quiet.conversation_id)
    assert await sweep(parts.driver, 30, at=later) == 0  # counted once

    # The customer sees an open conversation and carries on from the same question.
    assert (await svc.transcript(quiet.conversation_id)).status == "active"
    turn = await svc.reply(quiet.conversation_id, Incoming(choice="yes"))
    assert turn.status == "resolved"
    assert await status_of(parts, quiet.conversation_id) == "resolved"
    history = await kinds(parts, quiet.conversation_id)
    assert history[history.index(("abandoned", "ask_fixed_account")) + 1] == ("resumed", "ask_fixed_account")
    assert ("ended", "end_resolved") in history


async def test_a_turn_read_before_the_sweep_is_not_lost(parts: Parts) -> None:
    """The sweep bumps the row's version, so a turn that loaded the row first retries and sees it."""
    from bot.storage import store

    svc = parts.service
    started = await svc.start(None, "web")
    async with parts.service.driver.read() as s:
        stale = await store.load(s, started.conversation_id)
    assert await sweep(parts.driver, 30, at=time.time() + 3600) == 1
    from bot.errors import Conflict

    with pytest.raises(Conflict):
        async with parts.service.driver.write() as s:
            await store.save(s, stale, state=b"{}", status="active", awaiting=None)
    turn = await svc.reply(started.conversation_id, Incoming(choice="stuck_outbox"))
    assert turn.status == "active"
    assert ("resumed", "ask_symptom") in await kinds(parts, started.conversation_id)


def test_access_log_setting() -> None:
    from bot.errors import ConfigError

    assert Settings.from_env({}).access_log is False
    assert Settings.from_env({"SUPPORTBOT_ACCESS_LOG": "1"}).access_log is True
    assert Settings.from_env({"SUPPORTBOT_ACCESS_LOG": "off"}).access_log is False
    with pytest.raises(ConfigError, match="SUPPORTBOT_ACCESS_LOG='loud' must be 1"):
        Settings.from_env({"SUPPORTBOT_ACCESS_LOG": "loud"})


def test_idle_minutes_setting() -> None:
    from bot.errors import ConfigError

    assert Settings.from_env({}).idle_minutes == 30
    assert Settings.from_env({"SUPPORTBOT_IDLE_MINUTES": "5"}).idle_minutes == 5
    for bad in ("soon", "0", "-3", "nan"):
        with pytest.raises(ConfigError, match="SUPPORTBOT_IDLE_MINUTES"):
            Settings.from_env({"SUPPORTBOT_IDLE_MINUTES": bad})
