"""A full diagnosis: the JSON of `supportbot probe --json` and a readable, grouped text report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.probing import ProbeResult

MARKS = {"pass": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "unknown": "[?]   ", "skipped": "[-]   "}
GROUPS = (
    ("Domain and DNS records", ("mx", "mail_host", "spf", "dmarc", "dkim")),
    ("Mail servers", ("smtp_25", "smtp_465", "smtp_587", "tls")),
    ("Blocklists", ("ip_blocklist", "domain_blocklist")),
)


@dataclass(frozen=True)
class Report:
    """Every check once, in the order of `bot.probes.diagnosis.CHECKS`."""

    domain: str
    ascii: str
    elapsed_ms: int
    checks: list[ProbeResult] = field(default_factory=list)
    ip: str | None = None

    def check(self, check_id: str) -> ProbeResult:
        return next(c for c in self.checks if c.id == check_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"domain": self.domain, "ascii": self.ascii, "elapsed_ms": self.elapsed_ms}
        if self.ip:
            out["ip"] = self.ip
        out["checks"] = [c.to_json() for c in self.checks]
        return out

    def render_text(self) -> str:
        shown = self.domain if self.domain == self.ascii else f"{self.domain} ({self.ascii})"
        lines = [f"Diagnosis of {shown} in {self.elapsed_ms / 1000:.1f} s"]
        by_id = {c.id: c for c in self.checks}
        for title, ids in GROUPS:
            lines.append("")
            lines.append(title)
            for check_id in ids:
                result = by_id.get(check_id)
                if result is not None:
                    lines.append(f"  {MARKS.get(result.status, '[?]   ')} {check_id:<16} {result.summary}")
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in MARKS}
        lines.append("")
        lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n))
        return "\n".join(lines)
