"""An authoritative DNS server on loopback (UDP and TCP, dnspython wire format) with scripted faults."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import pytest

from tests.fakes import BackgroundLoop

# One record in presentation form; for TXT and SPF a tuple gives the record's separate strings exactly.
Record = str | tuple[str, ...]
# name -> {"A": ["192.0.2.1"], "MX": ["10 mail.example.com"], "TXT": ["v=spf1 -all"], "CNAME": "x.example"}
Zones = Mapping[str, Mapping[str, Sequence[Record] | str]]
# "servfail" | "refused" | "nxdomain" | "drop" | "delay:SECONDS" (then answered normally)
Fault = str
TTL = 60


def _norm(name: str) -> str:
    # Through dnspython's own text form, so names with odd characters (spaces, "%") match queries.
    text = name.strip().rstrip(".")
    return dns.name.from_text(text).to_text(omit_final_dot=True).lower() if text else ""


def dnsbl_zone(
    zone: str, listed: Mapping[str, str] | None = None, *, works: bool = True
) -> dict[str, dict[str, list[str]]]:
    """An IP blocklist per RFC 5782: `listed` maps a reversed-name key (e.g. "4.3.2.1") to an answer.

    The RFC's test entries are included (127.0.0.2 listed, 127.0.0.1 not) unless `works` is False.
    """
    out: dict[str, dict[str, list[str]]] = {}
    if works:
        out[f"2.0.0.127.{zone}"] = {"A": ["127.0.0.2"], "TXT": ["test entry"]}
    for key, answer in (listed or {}).items():
        out[f"{key}.{zone}"] = {"A": [answer], "TXT": [f"Listed by {zone}, see https://{zone}/lookup"]}
    return out


def domain_list_zone(zone: str, listed: Mapping[str, str] | None = None) -> dict[str, dict[str, list[str]]]:
    """A domain blocklist (RFC 5782 §5: "test" listed, "invalid" not)."""
    out: dict[str, dict[str, list[str]]] = {f"test.{zone}": {"A": ["127.0.1.2"]}}
    for domain, answer in (listed or {}).items():
        out[f"{domain}.{zone}"] = {"A": [answer]}
    return out


class FakeDNS:
    """Serves `zones`; `faults` maps a name, or (name, type), to a scripted misbehaviour; `delay` applies to all."""

    def __init__(
        self,
        zones: Zones | None = None,
        *,
        faults: Mapping[str | tuple[str, str], Fault] | None = None,
        delay: float = 0.0,
        jitter: float = 0.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.zones: dict[str, dict[str, Sequence[Record] | str]] = {}
        for name, node in (zones or {}).items():
            self.zones[_norm(name)] = {k.upper(): v for k, v in node.items()}
        self.faults: dict[str | tuple[str, str], Fault] = {}
        for key, fault in (faults or {}).items():
            self.fault(
                key if isinstance(key, str) else key[0], fault, None if isinstance(key, str) else key[1]
            )
        self.delay = delay
        # Up to this many seconds more per answer, at random: answers arrive in a different order each run.
        self.jitter = jitter
        self.host = host
        self.port = 0
        self.queries: list[tuple[str, str, str]] = []  # (name, type, "udp"|"tcp")
        self._bg: BackgroundLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None

    # --- scripting -------------------------------------------------------------------------------
    def add(self, name: str, rdtype: str, *records: Record) -> FakeDNS:
        node = self.zones.setdefault(_norm(name), {})
        if rdtype.upper() == "CNAME":
            assert isinstance(records[0], str)
            node["CNAME"] = records[0]
        else:
            node[rdtype.upper()] = [*node.get(rdtype.upper(), []), *records]
        return self

    def update(self, zones: Zones) -> FakeDNS:
        for name, node in zones.items():
            for rdtype, records in node.items():
                self.add(name, rdtype, *([records] if isinstance(records, str) else records))
        return self

    def fault(self, name: str, fault: Fault, rdtype: str | None = None) -> FakeDNS:
        self.faults[(_norm(name), rdtype.upper()) if rdtype else _norm(name)] = fault
        return self

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def nameserver(self) -> str:
        """The SUPPORTBOT_NAMESERVERS value for this server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def start(self) -> FakeDNS:
        self._bg = BackgroundLoop("fake-dns")
        self._bg.call(self._start())
        return self

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.call(self._stop())
            self._bg.close()
            self._bg = None

    def __enter__(self) -> FakeDNS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(20):  # UDP picks a free port; TCP must get the same one
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, 0), family=family
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port)
            except OSError:
                transport.close()
                continue
            self._udp, self.port = transport, port
            return
        raise RuntimeError("no free port for UDP and TCP at once")

    async def _stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                wire = await self.answer(await _read_tcp(reader), "tcp")
                if wire is not None:
                    writer.write(struct.pack("!H", len(wire)) + wire)
                    await writer.drain()
        writer.close()

    # --- answering -------------------------------------------------------------------------------
    async def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The response to one query, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = _norm(question.name.to_text())
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype, transport))
        fault = self.faults.get((name, rdtype)) or self.faults.get(name) or ""
        delay = self.delay + (random.uniform(0, self.jitter) if self.jitter else 0.0)
        if fault.startswith("delay:"):
            delay += float(fault.split(":", 1)[1])
            fault = ""
        if delay:
            await asyncio.sleep(delay)
        if fault == "drop":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if fault == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
        elif fault == "refused":
            response.set_rcode(dns.rcode.REFUSED)
        elif fault == "nxdomain":
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            self._fill(response, name, question.rdtype)
        limit = 65535 if transport == "tcp" else max(512, query.payload if query.edns >= 0 else 512)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA | dns.flags.TC
            return response.to_wire()

    def _fill(self, response: dns.message.Message, name: str, rdtype: dns.rdatatype.RdataType) -> None:
        owner = name
        for _ in range(8):  # follow in-zone CNAMEs as an authoritative server does
            node = self.zones.get(owner)
            if node is None:
                if owner == name and not any(n.endswith("." + name) for n in self.zones):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                return
            target = node.get("CNAME")
            if isinstance(target, str) and rdtype != dns.rdatatype.CNAME:
                response.answer.append(_rrset(owner, "CNAME", [target]))
                owner = _norm(target)
                continue
            records = node.get(dns.rdatatype.to_text(rdtype))
            if records:
                response.answer.append(_rrset(owner, dns.rdatatype.to_text(rdtype), records))
            return


def _rrset(owner: str, rdtype: str, records: Sequence[Record] | str) -> dns.rrset.RRset:
    items = [records] if isinstance(records, str) else list(records)
    kind = dns.rdatatype.from_text(rdtype)
    rrset = dns.rrset.RRset(dns.name.from_text(owner), dns.rdataclass.IN, kind)
    rrset.update_ttl(TTL)
    for record in items:
        if rdtype in ("TXT", "SPF") and not (isinstance(record, str) and record.startswith('"')):
            # Built from bytes, so control characters and non-ASCII reach the wire as they are.
            rrset.add(dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, kind, _txt_strings(record)))
            continue
        assert isinstance(record, str)
        rrset.add(
            dns.rdata.from_text(dns.rdataclass.IN, rdtype, record, origin=dns.name.root, relativize=False)
        )
    return rrset


def _txt_strings(record: Record) -> list[bytes]:
    if isinstance(record, tuple):
        return [s.encode() for s in record] or [b""]
    # A TXT string holds at most 255 bytes; longer texts become several strings (joined by readers).
    raw = record.encode()
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: FakeDNS) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        task = asyncio.ensure_future(self._reply(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, data: bytes, addr: tuple[Any, ...]) -> None:
        wire = await self.server.answer(data, "udp")
        if wire is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(wire, addr)


async def _read_tcp(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack("!H", await reader.readexactly(2))
    return await reader.readexactly(length)


@pytest.fixture
def fake_dns() -> Iterator[Callable[..., FakeDNS]]:
    """Factory: `dns = fake_dns({"example.com": {"MX": ["10 mail.example.com"]}})`; stopped after the test."""
    servers: list[FakeDNS] = []

    def make(zones: Zones | None = None, **options: Any) -> FakeDNS:
        server = FakeDNS(zones, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
