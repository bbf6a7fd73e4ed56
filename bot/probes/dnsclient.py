"""DNS lookups for the probes: dnspython's async resolver, every outcome a value instead of an exception."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from bot.probes.untrusted import TXT_CHARS, clip

# Long enough for any sane SPF record; evidence shown to people is clipped shorter.
RECORD_CHARS = 4096
LookupStatus = Literal["ok", "nxdomain", "nodata", "servfail", "timeout", "error"]


@dataclass(frozen=True)
class Lookup:
    """One answer: `records` are rdata texts (TXT strings joined and clipped); `canonical` after CNAMEs."""

    name: str
    rdtype: str
    status: LookupStatus
    records: tuple[str, ...] = ()
    canonical: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def missing(self) -> bool:
        """The name or record type does not exist (as opposed to the lookup failing)."""
        return self.status in ("nxdomain", "nodata")

    @property
    def failed(self) -> bool:
        return self.status in ("servfail", "timeout", "error")

    @property
    def aliased(self) -> bool:
        return bool(self.canonical) and self.canonical != self.name

    def evidence(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "type": self.rdtype, "status": self.status}
        if self.records:
            out["records"] = [clip(r, TXT_CHARS) for r in self.records]
        if self.aliased:
            out["canonical_name"] = self.canonical
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class DnsClient:
    """Resolves through SUPPORTBOT_NAMESERVERS (or the system's), one timeout per lookup."""

    nameservers: tuple[tuple[str, int], ...] = ()
    timeout: float = 3.0
    # When set, every lookup waits for it: the benchmark's "one after another" measurement.
    serial: asyncio.Lock | None = None
    _resolver: dns.asyncresolver.Resolver | None = field(default=None, init=False, repr=False)

    def resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            if self.nameservers:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [
                    dns.nameserver.Do53Nameserver(ip, port) for ip, port in self.nameservers
                ]
            else:
                resolver = dns.asyncresolver.Resolver()
            # A SERVFAIL is an answer we report (unknown), not a reason to hammer the server again.
            resolver.retry_servfail = False
            resolver.timeout = self.timeout
            resolver.lifetime = self.timeout
            resolver.cache = None
            self._resolver = resolver
        return self._resolver

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        """Look `name` up; never raises for DNS trouble (the status says what happened)."""
        name = name.rstrip(".").lower()
        async with self._turn():
            try:
                resolver = self.resolver()
                # The backstop covers a resolver that ignores its own lifetime.
                async with asyncio.timeout(self.timeout + 1.0):
                    answer = await resolver.resolve(
                        name, rdtype, raise_on_no_answer=False, search=False, lifetime=self.timeout
                    )
            except dns.resolver.NXDOMAIN:
                return Lookup(name, rdtype, "nxdomain")
            except (dns.resolver.LifetimeTimeout, dns.exception.Timeout, TimeoutError):
                return Lookup(name, rdtype, "timeout", error=f"no answer within {self.timeout:g} s")
            except dns.resolver.NoNameservers as exc:
                return Lookup(name, rdtype, "servfail", error=clip(str(exc)))
            except dns.resolver.NoResolverConfiguration:
                return Lookup(name, rdtype, "error", error="no nameserver configured")
            except (dns.exception.DNSException, OSError, ValueError) as exc:
                return Lookup(name, rdtype, "error", error=clip(f"{type(exc).__name__}: {exc}"))
        canonical = answer.canonical_name.to_text(omit_final_dot=True).lower()
        if answer.rrset is None:
            return Lookup(name, rdtype, "nodata", canonical=canonical)
        records = tuple(_text(rdata) for rdata in answer.rrset)
        return Lookup(name, rdtype, "ok", records=records, canonical=canonical)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self.serial is None:
            yield
        else:
            async with self.serial:
                yield


def _text(rdata: object) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:  # type: ignore[attr-defined]
        # A TXT record is several strings that mean one text when joined. Control characters stay
        # so a record check can name them; anything shown to people goes through `clip` first.
        text = b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
        return text[:RECORD_CHARS]
    return str(rdata.to_text())  # type: ignore[attr-defined]
