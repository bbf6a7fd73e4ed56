"""Fixture probes that hold each check until the test releases it: a probe still running, on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.engine.probing import FixtureProbes, ProbeResult, ProgressCallback


class HeldProbes(FixtureProbes):
    """Fixture results, but each check sets `started` and then waits for `release`."""

    def __init__(self, results: Mapping[str, ProbeResult]) -> None:
        super().__init__(results)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        self.started.set()
        await self.release.wait()
        return await super().run(check, args, conversation=conversation, progress=progress)
