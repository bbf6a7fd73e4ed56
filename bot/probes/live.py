"""LiveProbes: the engine's probe port backed by real DNS and SMTP, with cache and rate limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from bot.engine.probing import CHECK_ARGUMENTS, ProbeResult, ProgressCallback
from bot.errors import ProbeError
from bot.probes.addresses import IPAddress, parse_address, refusal
from bot.probes.diagnosis import CHECKS, crashed, run_checks
from bot.probes.dkim import SELECTOR
from bot.probes.dnsclient import DnsClient, Lookup
from bot.probes.limits import Clock, RateLimit, TTLCache
from bot.probes.names import Domain, normalise_domain, normalise_host
from bot.probes.report import Report
from bot.probes.run import DEFAULT_PROVIDER_SMTP_HOST, ProbeConfig, Run, Timeouts
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Checked arguments of one probe request."""

    domain: Domain | None
    ip: IPAddress | None = None
    sending_host: str | None = None
    selector: str | None = None

    def key(self, check: str) -> Hashable:
        wanted = CHECK_ARGUMENTS.get(check, frozenset())
        return (
            check,
            self.domain.ascii if self.domain and "domain" in wanted else "",
            str(self.ip) if self.ip and "ip" in wanted else "",
            self.sending_host if "sending_host" in wanted else "",
            self.selector if "selector" in wanted else "",
        )


class LiveProbes:
    """Implements ProbePort: `run` never raises for findings or trouble, only ProbeError for refused input."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        timeouts: Timeouts | None = None,
        provider_smtp_host: str = DEFAULT_PROVIDER_SMTP_HOST,
        default_selector: str = "default",
        cache_ttl: float = 300.0,
        per_conversation: tuple[int, float] = (12, 600.0),
        global_limit: tuple[int, float] = (120, 60.0),
        clock: Clock = time.monotonic,
        serial: bool = False,
    ) -> None:
        settings = settings if settings is not None else Settings.from_env()
        timeouts = timeouts or Timeouts()
        # serial: every lookup and connection one after another (the benchmark's baseline).
        lock = asyncio.Lock() if serial else None
        self.config = ProbeConfig(
            dns=DnsClient(settings.nameservers, timeout=timeouts.dns, serial=lock),
            allow=settings.probe_allow,
            smtp_ports=dict(settings.smtp_ports),
            dnsbl_zones=settings.dnsbl_zones,
            domain_blocklists=settings.domain_blocklists,
            timeouts=timeouts,
            provider_smtp_host=provider_smtp_host,
            default_selector=default_selector,
            serial=lock,
            answers=TTLCache[Lookup](cache_ttl, clock=clock, keep=lambda lookup: not lookup.failed),
        )
        self.config.tls()  # loaded now rather than inside the first diagnosis
        self.cache = TTLCache[ProbeResult](
            cache_ttl, clock=clock, keep=lambda result: result.status != "unknown"
        )
        self.per_conversation = RateLimit(*per_conversation, clock=clock)
        self.global_limit = RateLimit(*global_limit, clock=clock)

    def known(self, check: str) -> bool:
        return check in CHECKS

    def arguments(self, check: str) -> frozenset[str]:
        return CHECK_ARGUMENTS.get(check, frozenset())

    async def run(
        self,
        check: str,
        args: Mapping[str, str],
        *,
        conversation: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ProbeResult:
        if check not in CHECKS:
            raise ProbeError(f"unknown probe {check!r}; known probes: {', '.join(CHECKS)}")
        target = self.target(check, args)
        cached = self.cache.get(target.key(check))
        if cached is not None:
            result = cached
        elif not self._allowed(conversation):
            result = ProbeResult(
                check,
                "unknown",
                "I've run a lot of checks in the last few minutes, so I'll skip this one; please try again a little later.",
                {"error": "rate limited"},
            )
        else:
            try:
                return (await self._run(target, [check], progress))[check]
            except Exception as exc:  # run() is a port: trouble becomes "unknown", never an exception
                log.exception("probe %s failed", check)
                result = crashed(check, exc)
        if progress is not None:
            await progress(result)
        return result

    async def diagnose(
        self, domain: str, ip: str | None = None, *, progress: ProgressCallback | None = None
    ) -> Report:
        """Every check of the mail diagnosis at once under the deadline; ProbeError for refused input."""
        target = self.target("mx", {"domain": domain, "ip": ip or ""})
        assert target.domain is not None
        started = time.monotonic()
        results = await self._run(target, list(CHECKS), progress)
        return Report(
            domain=target.domain.unicode,
            ascii=target.domain.ascii,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            checks=[results[c] for c in CHECKS],
            ip=str(target.ip) if target.ip else None,
        )

    def target(self, check: str, args: Mapping[str, str]) -> Target:
        """Check the arguments; raise ProbeError with what to give instead."""
        raw_domain = (args.get("domain") or "").strip()
        raw_ip = (args.get("ip") or "").strip()
        domain = normalise_domain(raw_domain) if raw_domain else None
        if domain is None and not (check == "ip_blocklist" and raw_ip):
            raise ProbeError(f"the {check} probe needs a domain, such as example.com")
        ip = None
        if raw_ip:
            ip = parse_address(raw_ip)
            if ip is None:
                raise ProbeError(f"{raw_ip!r} is not an IP address; give one like 203.0.113.7")
            reason = refusal(ip, self.config.allow)
            if reason is not None:
                raise ProbeError(
                    f"{ip} is a {reason} address, which no blocklist lists; give the public address you "
                    "send from (search the web for 'what is my IP')"
                )
        selector = (args.get("selector") or "").strip() or None
        if selector is not None and not SELECTOR.match(selector):
            raise ProbeError(f"{selector!r} is not a DKIM selector; use a name like 'default' or 's1'")
        sending = (args.get("sending_host") or "").strip()
        return Target(domain, ip, normalise_host(sending) if sending else None, selector)

    def _allowed(self, conversation: str | None) -> bool:
        if conversation is not None and not self.per_conversation.allow(conversation):
            return False
        return self.global_limit.allow("*")

    async def _run(
        self, target: Target, checks: list[str], progress: ProgressCallback | None
    ) -> dict[str, ProbeResult]:
        run = Run(self.config, CHECKS, target.domain, target.ip, target.sending_host, target.selector)
        results = await run_checks(run, checks, self.config.timeouts.deadline, progress)
        # Checks computed on the way (mx for smtp_25, say) are cached too.
        for check, result in {**run.finished_checks(), **results}.items():
            self.cache.put(target.key(check), result)
        return results


async def diagnose(domain: str, ip: str | None = None, settings: Settings | None = None) -> Report:
    """The full diagnosis of `domain` (and `ip`, for the blocklists), as `supportbot probe` prints it."""
    return await LiveProbes(settings).diagnose(domain, ip)
