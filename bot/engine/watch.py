"""Hot reload: reloads the flow registry when a flow file changes on disk or the process gets SIGHUP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

from bot.engine.registry import FlowRegistry, LoadReport

log = logging.getLogger(__name__)

Snapshot = dict[str, tuple[int, int]]  # file -> (mtime in ns, size)


def snapshot(registry: FlowRegistry) -> Snapshot:
    """What the flow folder looks like now; any difference (edit, new file, removal) means reload."""
    found: Snapshot = {}
    for path in registry.files():
        with contextlib.suppress(OSError):  # removed between listing and stat: it simply isn't there
            stat = path.stat()
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def reload_now(registry: FlowRegistry, why: str) -> LoadReport:
    report = registry.reload()
    log.info(
        "flows reloaded (%s): %s loaded, %s refused",
        why,
        ", ".join(report.loaded) or "nothing new",
        ", ".join(Path(f).name for f in report.refused) or "none",
    )
    return report


async def watch_flows(
    registry: FlowRegistry,
    interval: float = 1.0,
    stop: asyncio.Event | None = None,
    on_reload: Callable[[LoadReport], None] | None = None,
) -> None:
    """Poll the registry's folder every `interval` seconds and reload on change or SIGHUP, until `stop`.

    Meant as a background task for the server's lifetime (cancelling it is fine too). Polling needs
    nothing from the OS and sees edits on any filesystem; a flow folder holds a handful of files.
    A reload that refuses a file leaves the previous version serving; `registry.refused` tells, and
    `on_reload` hears every report (metrics, tests).
    """
    stop = stop or asyncio.Event()
    wake = asyncio.Event()
    hup = _listen_for_sighup(wake)
    seen = snapshot(registry)
    try:
        while not stop.is_set():
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if stop.is_set():
                break
            now = snapshot(registry)
            report = None
            if wake.is_set():
                wake.clear()
                report = reload_now(registry, "SIGHUP")
            elif now != seen:
                report = reload_now(registry, "files changed")
            seen = now
            if report is not None and on_reload is not None:
                on_reload(report)
    finally:
        if hup:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)


def _listen_for_sighup(wake: asyncio.Event) -> bool:
    """`kill -HUP <pid>` reloads at once; only possible on Unix, in the main thread's loop."""
    if not hasattr(signal, "SIGHUP"):
        return False
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, wake.set)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True


def flows_health(registry: FlowRegistry) -> dict[str, object]:
    """For /healthz: the version serving new conversations per flow, and refused files with their problems."""
    return {
        "flows": {flow_id: registry.get(flow_id).version for flow_id in registry.ids()},
        "refused": {file: list(problems) for file, problems in registry.refused.items()},
    }
