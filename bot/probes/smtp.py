"""One polite SMTP conversation: greeting, EHLO, STARTTLS, EHLO again, QUIT; never AUTH, MAIL, RCPT or DATA."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.probes.certs import CertFacts, cert_facts, match_name
from bot.probes.untrusted import clip

Outcome = Literal["ok", "refused", "timeout", "unreachable", "rejected", "protocol", "tls_failed"]
LINE_LIMIT = 4096  # bytes per reply line before we call the server broken
MAX_LINES = 64  # lines per reply (a multi-line greeting or EHLO list)
SHOWN_LINES = 12


class SmtpProtocolError(Exception):
    """The server said something that is not SMTP."""


@dataclass
class TlsFacts:
    """The TLS handshake: verified chain or the reason it was refused, and the name check."""

    host: str
    verified: bool
    error: str = ""
    verify_code: int | None = None
    version: str = ""
    cert: CertFacts | None = None
    name_ok: bool = False

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "verified": self.verified, "name_matches": self.name_ok}
        if self.error:
            out["error"] = self.error
        if self.version:
            out["version"] = self.version
        if self.cert is not None:
            out["certificate"] = self.cert.evidence()
        return out


@dataclass
class SmtpSession:
    """Everything one connection showed; `outcome` is how it ended, `stage` where."""

    host: str
    address: str
    port: int
    implicit_tls: bool = False
    outcome: Outcome = "ok"
    stage: str = "connect"
    error: str = ""
    greeting: list[str] = field(default_factory=list)
    greeting_code: int | None = None
    extensions: list[str] = field(default_factory=list)
    extensions_tls: list[str] | None = None
    starttls_offered: bool = False
    tls: TlsFacts | None = None
    elapsed_ms: int = 0

    @property
    def answered(self) -> bool:
        return self.greeting_code is not None

    @property
    def final_extensions(self) -> list[str]:
        return self.extensions_tls if self.extensions_tls is not None else self.extensions

    @property
    def auth(self) -> list[str]:
        """AUTH mechanisms offered (after TLS when there was TLS), `AUTH=` legacy form included."""
        for line in self.final_extensions:
            upper = line.upper()
            if upper.startswith(("AUTH ", "AUTH=")):
                return sorted({m for m in upper[5:].split() if m})
        return []

    @property
    def size(self) -> int | None:
        """The SIZE limit in bytes; None when not advertised, 0 when advertised without a number."""
        for line in self.final_extensions:
            parts = line.split()
            if parts and parts[0].upper() == "SIZE":
                return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return None

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "host": self.host,
            "address": self.address,
            "port": self.port,
            "outcome": self.outcome,
            "elapsed_ms": self.elapsed_ms,
        }
        if self.outcome != "ok":
            out["stage"] = self.stage
        if self.error:
            out["error"] = self.error
        if self.greeting:
            out["greeting"] = self.greeting[:SHOWN_LINES]
        if self.extensions:
            out["ehlo"] = self.extensions[: SHOWN_LINES * 2]
        if self.extensions_tls is not None:
            out["ehlo_after_tls"] = self.extensions_tls[: SHOWN_LINES * 2]
        if not self.implicit_tls:
            out["starttls"] = self.starttls_offered
        out["auth"] = self.auth
        out["size"] = self.size
        if self.tls is not None:
            out["tls"] = self.tls.evidence()
        return out


async def smtp_session(
    host: str,
    address: str,
    port: int,
    *,
    connect_port: int | None = None,
    implicit_tls: bool = False,
    tls_context: ssl.SSLContext,
    connect_timeout: float = 5.0,
    session_timeout: float = 10.0,
) -> SmtpSession:
    """Talk to `address` (already checked) as if to `host`; never raises for the server's behaviour.

    `session_timeout` caps the whole conversation, so a tarpit dribbling bytes cannot stretch it.
    """
    session = SmtpSession(host=host, address=address, port=port, implicit_tls=implicit_tls)
    started = time.monotonic()
    writer: asyncio.StreamWriter | None = None
    clean = False
    try:
        async with asyncio.timeout(session_timeout):
            try:
                async with asyncio.timeout(connect_timeout):
                    reader, writer = await asyncio.open_connection(
                        address,
                        connect_port or port,
                        ssl=tls_context if implicit_tls else None,
                        server_hostname=host if implicit_tls else None,
                        ssl_handshake_timeout=connect_timeout if implicit_tls else None,
                        limit=LINE_LIMIT,
                    )
            except ssl.SSLError as exc:
                session.stage = "tls"
                session.tls = _tls_failure(host, exc)
                session.outcome = "tls_failed"
                session.error = session.tls.error
                return session
            if implicit_tls:
                session.tls = _tls_facts(host, writer)
            session.stage = "greeting"
            session.greeting_code, session.greeting = await _reply(reader)
            if session.greeting_code != 220:
                session.outcome = "rejected"
                await _quit(reader, writer)
                clean = True
                return session
            session.stage = "ehlo"
            session.extensions = await _ehlo(reader, writer)
            session.starttls_offered = any(e.upper() == "STARTTLS" for e in session.extensions)
            if not implicit_tls and session.starttls_offered:
                session.stage = "starttls"
                await _send(writer, "STARTTLS")
                code, lines = await _reply(reader)
                if code != 220:
                    session.error = clip(" ".join(lines))
                else:
                    try:
                        await writer.start_tls(
                            tls_context, server_hostname=host, ssl_handshake_timeout=connect_timeout
                        )
                    except ssl.SSLError as exc:
                        session.tls = _tls_failure(host, exc)
                        session.outcome = "tls_failed"
                        session.error = session.tls.error
                        return session
                    session.tls = _tls_facts(host, writer)
                    session.stage = "ehlo"
                    session.extensions_tls = await _ehlo(reader, writer)
            session.stage = "quit"
            await _quit(reader, writer)
            clean = True
            session.stage = "done"
    except TimeoutError:
        session.outcome = "timeout"
        session.error = f"no complete answer within {session_timeout if session.stage != 'connect' else connect_timeout:g} s"
    except ConnectionRefusedError:
        session.outcome = "refused"
        session.error = "connection refused"
    except SmtpProtocolError as exc:
        session.outcome = "protocol"
        session.error = clip(str(exc))
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        session.outcome = "protocol" if session.stage != "connect" else "unreachable"
        session.error = clip(f"connection closed by the server ({type(exc).__name__})")
    except OSError as exc:
        session.outcome = "unreachable" if session.stage == "connect" else "protocol"
        session.error = clip(str(exc) or type(exc).__name__)
    finally:
        session.elapsed_ms = int((time.monotonic() - started) * 1000)
        if writer is not None:
            await _close(writer, clean)
    return session


async def _send(writer: asyncio.StreamWriter, line: str) -> None:
    writer.write(line.encode("ascii") + b"\r\n")
    await writer.drain()


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """Read one whole reply, every `NNN-` continuation line up to the final `NNN ` line."""
    lines: list[str] = []
    code: int | None = None
    while len(lines) < MAX_LINES:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise SmtpProtocolError("reply line longer than 4 KB") from None
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        head = text[:3]
        if not head.isdigit() or (len(text) > 3 and text[3] not in " -"):
            raise SmtpProtocolError(f"not an SMTP reply: {clip(text, 80)!r}")
        if code is not None and int(head) != code:
            raise SmtpProtocolError("reply code changed in the middle of a multi-line reply")
        code = int(head)
        lines.append(clip(text))
        if len(text) == 3 or text[3] == " ":
            return code, lines
    raise SmtpProtocolError(f"reply longer than {MAX_LINES} lines")


async def _ehlo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> list[str]:
    local = writer.get_extra_info("sockname")
    literal = (
        f"[IPv6:{local[0]}]" if local and ":" in str(local[0]) else f"[{local[0] if local else '127.0.0.1'}]"
    )
    await _send(writer, f"EHLO {literal}")
    code, lines = await _reply(reader)
    if code != 250:
        raise SmtpProtocolError(f"EHLO refused: {clip(' '.join(lines), 120)}")
    return [line[4:] for line in lines[1:]]


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, SmtpProtocolError, asyncio.IncompleteReadError, TimeoutError):
        await _send(writer, "QUIT")
        async with asyncio.timeout(1.0):
            await _reply(reader)


async def _close(writer: asyncio.StreamWriter, clean: bool) -> None:
    # abort() frees the socket at once, even when cancelled; a polite close may wait on a silent peer.
    try:
        if clean:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
    finally:
        writer.transport.abort()


def _tls_facts(host: str, writer: asyncio.StreamWriter) -> TlsFacts:
    ssl_object = writer.get_extra_info("ssl_object")
    peer = ssl_object.getpeercert() if ssl_object is not None else None
    if not peer:
        return TlsFacts(host=host, verified=False, error="no certificate")
    facts = cert_facts(peer)
    return TlsFacts(
        host=host,
        verified=True,
        version=str(ssl_object.version() or ""),
        cert=facts,
        name_ok=match_name(host, [n for n in facts.names if not _is_ip(n)]),
    )


def _tls_failure(host: str, exc: ssl.SSLError) -> TlsFacts:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsFacts(
            host=host, verified=False, error=clip(str(exc.verify_message)), verify_code=exc.verify_code
        )
    return TlsFacts(host=host, verified=False, error=clip(exc.reason or str(exc)))


def _is_ip(name: str) -> bool:
    return name.replace(".", "").isdigit() or ":" in name
