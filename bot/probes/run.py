"""One diagnosis in progress: its settings, and memoised lookups, sessions and checks shared by every check."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.engine.probing import ProbeResult
from bot.probes.addresses import IPAddress, IPNetwork, refusal
from bot.probes.certs import tls_context
from bot.probes.dnsclient import DnsClient, Lookup
from bot.probes.limits import TTLCache
from bot.probes.names import Domain
from bot.probes.smtp import SmtpSession, smtp_session

T = TypeVar("T")
DEFAULT_PROVIDER_SMTP_HOST = "smtp.stackmail.com"
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Seconds: each DNS lookup, each TCP/TLS connect, each SMTP conversation, the whole diagnosis."""

    dns: float = 3.0
    connect: float = 5.0
    smtp: float = 10.0
    deadline: float = 20.0


@dataclass
class ProbeConfig:
    """What every diagnosis needs from the settings (and from the provider's facts)."""

    dns: DnsClient
    allow: tuple[IPNetwork, ...] = ()
    smtp_ports: Mapping[int, int] = field(default_factory=dict)
    dnsbl_zones: tuple[str, ...] = ()
    domain_blocklists: tuple[str, ...] = ()
    timeouts: Timeouts = field(default_factory=Timeouts)
    provider_smtp_host: str = DEFAULT_PROVIDER_SMTP_HOST
    default_selector: str = "default"
    max_message_bytes: int = MAX_MESSAGE_BYTES
    # When set, every lookup and SMTP conversation waits its turn (benchmark's sequential run).
    serial: asyncio.Lock | None = None
    # DNS answers shared by the runs of one LiveProbes (a flow's checks, one after another).
    answers: TTLCache[Lookup] | None = None
    _tls: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def tls(self) -> ssl.SSLContext:
        """One client TLS context for every run: loading the trust store takes tens of milliseconds."""
        if self._tls is None:
            self._tls = tls_context()
        return self._tls


CheckFunction = Callable[["Run"], Coroutine[Any, Any, ProbeResult]]


class Run:
    """Memoises work by key so a target is resolved once and a server is talked to once per diagnosis."""

    def __init__(
        self,
        config: ProbeConfig,
        checks: Mapping[str, CheckFunction],
        domain: Domain | None,
        ip: IPAddress | None = None,
        sending_host: str | None = None,
        selector: str | None = None,
    ) -> None:
        self.config = config
        self.domain = domain
        self.ip = ip
        self.sending_host = sending_host
        self.selector = selector or config.default_selector
        self._checks = checks
        self._memo: dict[Hashable, asyncio.Task[Any]] = {}

    @property
    def d(self) -> Domain:
        """The domain; checks that need one are only run when it was given."""
        assert self.domain is not None
        return self.domain

    def memo(self, key: Hashable, factory: Callable[[], Coroutine[Any, Any, T]]) -> Awaitable[T]:
        task = self._memo.get(key)
        if task is None:
            task = self._memo[key] = asyncio.ensure_future(factory())
        # shield: one impatient waiter must not cancel work other checks share.
        return asyncio.shield(task)

    def lookup(self, name: str, rdtype: str) -> Awaitable[Lookup]:
        key = ("dns", name.rstrip(".").lower(), rdtype)
        return self.memo(key, lambda: self._lookup(key, name, rdtype))

    async def _lookup(self, key: Hashable, name: str, rdtype: str) -> Lookup:
        answers = self.config.answers
        cached = answers.get(key) if answers is not None else None
        if cached is not None:
            return cached
        lookup = await self.config.dns.lookup(name, rdtype)
        if answers is not None:
            answers.put(key, lookup)
        return lookup

    def refusal(self, address: IPAddress) -> str | None:
        return refusal(address, self.config.allow)

    def session(self, host: str, address: str, port: int) -> Awaitable[SmtpSession]:
        """An SMTP conversation with an address that the caller has already checked with `refusal`."""
        return self.memo(("smtp", host, address, port), lambda: self._session(host, address, port))

    async def _session(self, host: str, address: str, port: int) -> SmtpSession:
        timeouts = self.config.timeouts
        async with self._turn():
            return await smtp_session(
                host,
                address,
                port,
                connect_port=self.config.smtp_ports.get(port, port),
                implicit_tls=port == 465,
                tls_context=self.config.tls(),
                connect_timeout=timeouts.connect,
                session_timeout=timeouts.smtp,
            )

    def check(self, check_id: str) -> Awaitable[ProbeResult]:
        return self.memo(("check", check_id), lambda: self._checks[check_id](self))

    def finished_checks(self) -> dict[str, ProbeResult]:
        out = {}
        for key, task in self._memo.items():
            finished = task.done() and not task.cancelled() and task.exception() is None
            if isinstance(key, tuple) and key[0] == "check" and finished:
                out[key[1]] = task.result()
        return out

    async def close(self) -> None:
        """Cancel whatever is still running and wait for it, so no task or socket outlives the run."""
        pending = [task for task in self._memo.values() if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        # Retrieve exceptions of finished tasks so asyncio does not log them as never retrieved.
        for task in self._memo.values():
            if not task.cancelled():
                task.exception()

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self.config.serial is None:
            yield
        else:
            async with self.config.serial:
                yield
