"""The probe port: what the engine asks of the probes layer, and the no-network default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.flows import checks
from bot.flows.checks import CHECK_ARGUMENTS as CHECK_ARGUMENTS  # the probes layer reads it here

ProbeStatus = Literal["pass", "warn", "fail", "unknown", "skipped"]
PROBE_STATUSES: tuple[ProbeStatus, ...] = ("pass", "warn", "fail", "unknown", "skipped")


@dataclass(frozen=True)
class ProbeResult:
    """One check's finding: `summary` is one plain sentence for the customer, `details` the evidence."""

    id: str
    status: ProbeStatus
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "summary": self.summary, "details": self.details}


# Called once per finished check so a channel can show progress ("checking…" then results).
ProgressCallback = Callable[[ProbeResult], Awaitable[None]]


class ProbePort(Protocol):
    """Runs one named check with arguments taken from slots (e.g. {"domain": "example.com"})."""

    def known(self, check: str) -> bool:
        """Whether `check` is a probe this port can run (flows are validated against it)."""
        ...

    def arguments(self, check: str) -> frozenset[str]:
        """The argument names `check` accepts (e.g. {"domain", "ip"})."""
        ...

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        """Run the check; never raises for findings, only returns a status (unknown on trouble)."""
        ...


class OfflineProbes:
    """The probe port with no network: every check is `unknown`, so flows take their unknown branch."""

    def known(self, check: str) -> bool:
        return checks.known(check)

    def arguments(self, check: str) -> frozenset[str]:
        return checks.arguments(check)

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        result = ProbeResult(
            id=check,
            status="unknown",
            summary="I couldn't run this check from here, so I'll go by what you tell me.",
        )
        if progress is not None:
            await progress(result)
        return result


class FixtureProbes(OfflineProbes):
    """Probe results given in advance (conversation tests, the test channel): check id -> result."""

    def __init__(self, results: Mapping[str, ProbeResult]) -> None:
        self.results = dict(results)
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        self.calls.append((check, dict(args)))
        result = self.results.get(check)
        if result is None:
            return await super().run(check, args, conversation=conversation, progress=progress)
        if progress is not None:
            await progress(result)
        return result
