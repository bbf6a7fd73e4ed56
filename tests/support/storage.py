"""Helpers for the storage, escalation and service tests: real parts on a given database, live events."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, LargeBinary

from bot.bootstrap import Parts, build
from bot.engine.probing import FixtureProbes, ProbeResult
from bot.escalation.sinks import Sink
from bot.service import Bus
from bot.settings import Settings
from bot.storage.driver import Driver, json_value
from bot.storage.schema import metadata

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "flows"

# Probe results for a reference-flow run that reaches a human with something to show.
REFERENCE_PROBES = {
    "smtp_25": ProbeResult("smtp_25", "pass", "mail.example.com answered on port 25."),
    "smtp_587": ProbeResult("smtp_587", "pass", "mail.example.com answered on port 587."),
    "ip_blocklist": ProbeResult("ip_blocklist", "fail", "203.0.113.7 is listed on zen.spamhaus.org."),
}


def settings_for(database_url: str, **changes: Any) -> Settings:
    return replace(Settings(database_url=database_url, flows_dir=FLOWS), **changes)


@contextlib.asynccontextmanager
async def running_parts(
    database_url: str,
    *,
    probes: FixtureProbes | None = None,
    sinks: Mapping[str, Sink] | None = None,
    migrate: bool = True,
    **changes: Any,
) -> AsyncIterator[Parts]:
    """bootstrap.build on `database_url` with fixture probes; closed on the way out."""
    parts = await build(
        settings_for(database_url, **changes),
        probes=probes or FixtureProbes(REFERENCE_PROBES),
        sinks=None if sinks is None else dict(sinks),
        migrate=migrate,
    )
    try:
        yield parts
    finally:
        await parts.close()


async def table_rows(driver: Driver, table: str, where: str = "", *args: Any) -> list[SimpleNamespace]:
    """A table's rows (`where` with $n parameters) in primary-key order, as namespaces by column name
    with JSON columns parsed and binary ones as bytes: what a test checks in the database."""
    columns = metadata.tables[table].columns
    names = [c.name for c in columns]
    order = ", ".join(c.name for c in columns if c.primary_key)
    async with driver.read() as s:
        found = await s.all(f"SELECT {', '.join(names)} FROM {table} {where} ORDER BY {order}", *args)

    def value(column: Any, raw: Any) -> Any:
        if raw is not None and isinstance(column.type, JSON):
            return json_value(raw)
        return bytes(raw) if raw is not None and isinstance(column.type, LargeBinary) else raw

    return [
        SimpleNamespace(**{c.name: value(c, raw) for c, raw in zip(columns, row, strict=True)})
        for row in found
    ]


async def execute(driver: Driver, sql: str, *args: Any) -> int:
    """One statement in its own transaction (a test standing in for the clock or another process)."""
    async with driver.write() as s:
        return await s.run(sql, *args)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m bot …` child: this working tree first, no inherited sinks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPPORTBOT_", "SLACK_", "SMTP_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["SUPPORTBOT_FLOWS"] = str(FLOWS)
    env.update(extra)
    return env


PYTHON = sys.executable


class Subscriber:
    """Collects a conversation's live events in a task, through the bus's public subscribe()."""

    def __init__(self, events: Bus, conversation_id: str) -> None:
        self.events = events
        self.conversation_id = conversation_id
        self.seen: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Subscriber:
        self._task = asyncio.create_task(self._pump())
        waiting = asyncio.create_task(self._listening.wait())
        async with asyncio.timeout(20):
            await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():
            self._task.result()  # the subscription failed: say why
            raise AssertionError("the subscription ended before it listened")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _pump(self) -> None:
        async for event in self.events.subscribe(self.conversation_id, ready=self._listening):
            async with self._changed:
                self.seen.append(event)
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with self._changed:
            while True:
                for event in self.seen:
                    if predicate(event):
                        return event
                await self._changed.wait()


async def supportbot_cli(database_url: str, *args: str) -> str:
    """Run `python -m bot ARGS` against `database_url`; its output, after asserting it succeeded."""
    child = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=child_env(DATABASE_URL=database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await child.communicate()
    assert child.returncode == 0, output.decode()
    return output.decode()
