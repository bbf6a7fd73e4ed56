"""Safe changes: edited flows load without a restart, running conversations keep their version, broken edits are refused."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine.engine import Engine
from bot.engine.model import Conversation, Incoming, Turn
from bot.engine.probing import OfflineProbes
from bot.engine.registry import FlowRegistry, LoadReport
from bot.engine.watch import flows_health, watch_flows
from bot.errors import FlowNotFound
from tests.support.flows import position_of, reference_text

OLD_GREETING = "Hi! I'll help you find out why your emails aren't sending."
NEW_GREETING = "Hello! Let's find out together why your emails aren't sending."
# The reference flow moves on; these tests edit whatever version it is at now.
V1 = re.search(r"^version: (\d+)$", reference_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
V2, V3 = str(int(V1) + 1), str(int(V1) + 2)


def _v2() -> str:
    text = reference_text()
    assert text.count(OLD_GREETING) == 1
    return text.replace(f"version: {V1}\n", f"version: {V2}\n", 1).replace(OLD_GREETING, NEW_GREETING)


def _said(turn: Turn) -> str:
    return "\n".join(m.text for m in turn.messages)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "cant-send-email.yaml").write_text(reference_text(), encoding="utf-8")
    return tmp_path


@pytest.fixture
def registry(folder: Path) -> FlowRegistry:
    return FlowRegistry.load_dir(folder)


@pytest.fixture
def engine(registry: FlowRegistry) -> Engine:
    return Engine(registry, OfflineProbes())


def _edit(folder: Path, text: str) -> Path:
    path = folder / "cant-send-email.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_conversation_finishes_on_its_version_and_new_ones_get_the_edit(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    before, opening = await engine.start("before")
    assert OLD_GREETING in _said(opening) and before.version == V1

    _edit(folder, _v2())
    report = registry.reload()
    assert report.loaded == [f"cant-send-email@{V2}"] and report.refused == {}

    after, opening = await engine.start("after")
    assert NEW_GREETING in _said(opening) and after.version == V2

    turn = await engine.handle(before, Incoming(text="it says my password is wrong"))
    assert before.version == V1 and turn.step == "ask_fixed_account"
    turn = await engine.handle(before, Incoming(choice="yes"))
    assert turn.status == "resolved" and before.version == V1

    # The old conversation, saved and restored as JSON, still resolves to version 1.
    restored = Conversation.from_json(after.to_json())
    turn = await engine.handle(restored, Incoming(text="restart"))
    assert NEW_GREETING in _said(turn) and restored.version == V2
    assert registry.versions("cant-send-email") == [V1, V2]


async def test_a_broken_edit_is_refused_and_the_old_version_keeps_serving(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    # One wrong target, on a step that other edges still reach: exactly one problem.
    good = '"No, it still fails", next: fix_account_details}'
    assert _v2().count(good) == 1
    broken = _v2().replace(good, good.replace("fix_account_details", "fix_acount_details"))
    path = _edit(folder, broken)
    report = registry.reload()
    line, column = position_of(broken, "fix_acount_details")
    assert report.loaded == []
    assert report.refused == {
        str(path): [
            f"{path}:{line}:{column}: step `fix_acount_details` does not exist; did you mean `fix_account_details`?"
        ]
    }
    assert registry.refused == report.refused
    assert flows_health(registry) == {"flows": {"cant-send-email": V1}, "refused": report.refused}

    conv, opening = await engine.start("during-breakage")
    assert conv.version == V1 and OLD_GREETING in _said(opening)

    _edit(folder, _v2())  # the lead fixes the typo
    assert registry.reload().loaded == [f"cant-send-email@{V2}"]
    assert registry.refused == {} and flows_health(registry)["refused"] == {}
    turn = await engine.handle(conv, Incoming(text="password"))
    assert conv.version == V1 and turn.step == "ask_fixed_account"


async def test_a_change_without_a_new_version_is_refused_with_how_to_fix(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    changed = reference_text().replace(OLD_GREETING, NEW_GREETING)
    path = _edit(folder, changed)
    line, column = position_of(changed, f"{V1}\ndescription")
    assert registry.reload().refused == {
        str(path): [
            f"{path}:{line}:{column}: this flow changed but its version is still {V1}; conversations in progress "
            f"keep running version {V1} as first loaded, so bump `version:` (e.g. to {V2}) to publish the change"
        ]
    }
    _conv, opening = await engine.start("c")
    assert OLD_GREETING in _said(opening)
    # Comments and layout are not changes: the same flow reloads quietly.
    _edit(folder, "# a new comment\n" + reference_text())
    assert registry.reload().refused == {} and registry.versions("cant-send-email") == [V1]


async def test_the_file_decides_which_version_serves_new_conversations(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    _edit(folder, _v2())
    registry.reload()
    _edit(folder, reference_text())  # rolled back
    assert registry.reload().loaded == []
    conv, _ = await engine.start("rolled-back")
    assert conv.version == V1


async def test_old_versions_stay_until_no_conversation_is_on_them(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    old, _ = await engine.start("old")
    _edit(folder, _v2())
    registry.reload()
    assert registry.prune([("cant-send-email", old.version)]) == []
    assert registry.get("cant-send-email", V1) is not None
    assert registry.prune([]) == [f"cant-send-email@{V1}"]
    assert registry.versions("cant-send-email") == [V2]
    assert registry.get().version == V2  # the latest is never pruned


async def test_a_migrate_map_moves_conversations_in_progress(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    conv, _ = await engine.start("moving")
    assert conv.step == "ask_symptom"
    renamed = (
        _v2()
        .replace("ask_symptom", "ask_problem")
        .replace("inputs: [client_ip]\n", "inputs: [client_ip]\n\nmigrate:\n  ask_symptom: ask_problem\n")
    )
    _edit(folder, renamed)
    assert registry.reload().refused == {}
    turn = await engine.handle(conv, Incoming(text="password"))
    assert conv.version == V2 and turn.step == "ask_fixed_account"
    assert conv.asked == ["ask_problem"]
    turn = await engine.handle(conv, Incoming(text="back"))
    assert turn.step == "ask_problem"


async def test_without_a_migrate_map_conversations_stay(
    folder: Path, registry: FlowRegistry, engine: Engine
) -> None:
    conv, _ = await engine.start("staying")
    _edit(folder, _v2())
    registry.reload()
    await engine.handle(conv, Incoming(text="password"))
    assert conv.version == V1


async def test_after_a_restart_a_conversation_on_a_lost_version_continues_on_the_new_one(
    folder: Path, engine: Engine
) -> None:
    conv, _ = await engine.start("survivor")
    saved = conv.to_json()
    _edit(folder, _v2())
    restarted = Engine(FlowRegistry.load_dir(folder), OfflineProbes())  # only version 2 is loaded now
    conv = Conversation.from_json(saved)
    turn = await restarted.handle(conv, Incoming(text="password"))
    assert conv.version == V2 and turn.step == "ask_fixed_account"

    _edit(folder, _v2().replace("ask_symptom", "ask_problem"))
    gone = Engine(FlowRegistry.load_dir(folder), OfflineProbes())
    lost = Conversation.from_json(saved)
    with pytest.raises(FlowNotFound, match=r"add `ask_symptom: <new step id>` under `migrate:`"):
        await gone.handle(lost, Incoming(text="password"))


def _reloads() -> tuple[asyncio.Queue[LoadReport], Callable[[LoadReport], None]]:
    reports: asyncio.Queue[LoadReport] = asyncio.Queue()
    return reports, reports.put_nowait


async def test_watch_flows_reloads_an_edited_file(folder: Path, registry: FlowRegistry) -> None:
    reports, on_reload = _reloads()
    stop = asyncio.Event()
    task = asyncio.create_task(watch_flows(registry, interval=0.01, stop=stop, on_reload=on_reload))
    try:
        await asyncio.sleep(0)  # the watcher takes its first look at the folder
        path = _edit(folder, _v2())
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # coarse clocks
        report = await asyncio.wait_for(reports.get(), timeout=10)
        assert report.loaded == [f"cant-send-email@{V2}"] and registry.get().version == V2

        broken = (
            _v2().replace(f"version: {V2}", f"version: {V3}").replace('"{{ domain }}"', '"{{ domain }"', 1)
        )
        _edit(folder, broken)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        report = await asyncio.wait_for(reports.get(), timeout=10)
        assert list(report.refused) == [str(path)] and registry.refused == report.refused
        assert registry.get().version == V2
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert task.exception() is None


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is Unix only")
async def test_sighup_reloads_at_once(folder: Path, registry: FlowRegistry) -> None:
    path = folder / "cant-send-email.yaml"
    before = path.stat()
    original = signal.getsignal(signal.SIGHUP)
    signal.signal(signal.SIGHUP, lambda *_: None)  # if the watcher could not listen, don't kill pytest
    reports, on_reload = _reloads()
    stop = asyncio.Event()
    task = asyncio.create_task(watch_flows(registry, interval=3600, stop=stop, on_reload=on_reload))
    try:
        await asyncio.sleep(0)  # the watcher installs its handler before it first waits
        _edit(folder, _v2())
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # no visible change: only the signal
        os.kill(os.getpid(), signal.SIGHUP)
        report = await asyncio.wait_for(reports.get(), timeout=10)
        assert report.loaded == [f"cant-send-email@{V2}"] and registry.get().version == V2
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        signal.signal(signal.SIGHUP, original)
