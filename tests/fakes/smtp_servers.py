"""SMTP servers on loopback: aiosmtpd with STARTTLS or implicit TLS, a mail receiver, a scripted raw server, a closed port."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.fakes import BackgroundLoop

FIFTY_MB = 50 * 1024 * 1024


class TestPKI:
    """A trustme CA the probes trust (via SSL_CERT_FILE = `ca_file`) and server contexts of every kind."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.untrusted = trustme.CA()
        self.ca_file = directory / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def context(self, kind: str = "good", names: Sequence[str] = ("mail.example.com",)) -> ssl.SSLContext:
        """kind: good | wrong_name (made out to wrong.invalid-host.net) | expired | self_signed | untrusted."""
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if kind == "self_signed":
            # A CA certificate presented as the server's own: signed by itself, trusted by no one.
            with _pem_files(self.untrusted.cert_pem.bytes(), self.untrusted.private_key_pem.bytes()) as (
                cert,
                key,
            ):
                server.load_cert_chain(cert, key)
            return server
        if kind == "untrusted":
            leaf = self.untrusted.issue_cert(*names)
        elif kind == "wrong_name":
            leaf = self.ca.issue_cert("mail.other-provider.net")
        elif kind == "expired":
            now = datetime.datetime.now(datetime.UTC)
            leaf = self.ca.issue_cert(
                *names,
                not_before=now - datetime.timedelta(days=60),
                not_after=now - datetime.timedelta(days=1),
            )
        elif kind == "expiring":
            now = datetime.datetime.now(datetime.UTC)
            leaf = self.ca.issue_cert(
                *names,
                not_before=now - datetime.timedelta(days=60),
                not_after=now + datetime.timedelta(days=5),
            )
        elif kind == "good":
            leaf = self.ca.issue_cert(*names)
        else:
            raise ValueError(f"unknown certificate kind {kind!r}")
        leaf.configure_cert(server)
        return server


@contextlib.contextmanager
def _pem_files(cert: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_path.write_bytes(cert)
        key_path.write_bytes(key)
        yield str(cert_path), str(key_path)


class _Handler:
    """Accepts nothing: the probes never send MAIL/RCPT/DATA, and a test would see it if they did."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.commands.append("MAIL")
        return "550 probes must not send MAIL"


def _refuse_auth(*_: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


class SMTPServer:
    """aiosmtpd on `host`, port chosen by the OS: STARTTLS (tls=context) or implicit TLS (implicit_tls=True)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        auth: bool = True,
        size: int = FIFTY_MB,
        greeting_delay: float = 0.0,
        name: str = "mail.example.com",
    ) -> None:
        self.handler = _Handler()
        self.connections = 0
        self.greeting_delay = greeting_delay
        outer = self
        kwargs: dict[str, Any] = {"data_size_limit": size, "server_hostname": name, "ready_timeout": 5.0}
        if auth:
            # With implicit TLS the whole session is encrypted, but aiosmtpd only knows about STARTTLS.
            kwargs.update(authenticator=_refuse_auth, auth_require_tls=not implicit_tls)
        else:
            kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]  # no mechanism left: no AUTH line
        if implicit_tls:
            kwargs["ssl_context"] = tls
        elif tls is not None:
            kwargs["tls_context"] = tls

        class _SMTP(SMTP):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                outer.connections += 1
                super().connection_made(transport)

            async def _handle_client(self) -> None:
                if outer.greeting_delay:
                    await asyncio.sleep(outer.greeting_delay)
                await super()._handle_client()

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _SMTP(self.handler, **self.SMTP_kwargs)

            def _create_server(self) -> Any:
                return self._bind()

            async def _bind(self) -> asyncio.AbstractServer:
                server = await self.loop.create_server(
                    self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
                )
                self.port = server.sockets[0].getsockname()[1]
                return server

        self.controller = _Controller(self.handler, hostname=host, port=0, **kwargs)
        self.host = host

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> SMTPServer:
        self.controller.start()
        self.connections = 0  # aiosmtpd's own readiness probe is not a client
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScriptedSMTP:
    """A raw TCP server that plays a script: greeting lines (optionally one byte at a time), EHLO lines, QUIT.

    `tarpit=0.2` sends the greeting one byte every 0.2 s. `silent=True` accepts and says nothing.
    `connections` counts accepted connections; `early_talk` is what a client sent before the greeting ended.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        greeting: Sequence[str] = ("220 mail.example.com ESMTP",),
        line_delay: float = 0.0,
        tarpit: float = 0.0,
        ehlo: Sequence[str] = ("250-mail.example.com", "250-SIZE 52428800", "250 AUTH PLAIN LOGIN"),
        silent: bool = False,
        port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.greeting = list(greeting)
        self.line_delay = line_delay
        self.tarpit = tarpit
        self.ehlo = list(ehlo)
        self.silent = silent
        self.connections: list[tuple[Any, ...]] = []
        self.commands: list[str] = []
        self.early_talk = b""
        self._bg: BackgroundLoop | None = None
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> ScriptedSMTP:
        self._bg = BackgroundLoop("scripted-smtp")
        self._bg.call(self._start())
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.call(self._stop())
            self._bg.close()
            self._bg = None

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def __enter__(self) -> ScriptedSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer.get_extra_info("peername"))
        try:
            if self.silent:
                await reader.read()
                return
            for index, line in enumerate(self.greeting):
                data = (line + "\r\n").encode()
                if self.tarpit:
                    for byte in data:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(self.tarpit)
                else:
                    writer.write(data)
                    await writer.drain()
                if index < len(self.greeting) - 1 and self.line_delay:
                    await asyncio.sleep(self.line_delay)
                # Anything already buffered before the last line was written is the client talking early.
                # StreamReader has no public peek: its private buffer shows it without consuming it.
                buffered: bytearray = reader._buffer  # type: ignore[attr-defined]
                if index < len(self.greeting) - 1 and buffered:
                    self.early_talk += bytes(buffered)
            while True:
                line = (await reader.readline()).decode(errors="replace").strip()
                if not line:
                    return
                self.commands.append(line.split(" ")[0].upper())
                verb = self.commands[-1]
                if verb in ("EHLO", "HELO"):
                    writer.write("".join(f"{reply}\r\n" for reply in self.ehlo).encode())
                elif verb == "QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"502 not here\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def pki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestPKI:
    """A test CA, trusted by the probes for this test (SSL_CERT_FILE points at it)."""
    authority = TestPKI(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    return authority


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SMTPServer]]:
    """Factory of started aiosmtpd servers (see SMTPServer), stopped after the test."""
    servers: list[SMTPServer] = []

    def make(*args: Any, **kwargs: Any) -> SMTPServer:
        server = SMTPServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def scripted_smtp() -> Iterator[Callable[..., ScriptedSMTP]]:
    """Factory of started ScriptedSMTP servers, stopped after the test."""
    servers: list[ScriptedSMTP] = []

    def make(*args: Any, **kwargs: Any) -> ScriptedSMTP:
        server = ScriptedSMTP(*args, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


class _Collect:
    def __init__(self, inbox: list[EmailMessage]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.append(message)
        return "250 OK queued"


@contextlib.asynccontextmanager
async def mail_receiver() -> AsyncIterator[tuple[str, list[EmailMessage]]]:
    """aiosmtpd on this event loop, port chosen by the OS; yields (SMTP_URL, received messages)."""
    inbox: list[EmailMessage] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(_Collect(inbox), hostname="mail.test", ident="test-smtp"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        server.close()
        await server.wait_closed()


def body_text(message: EmailMessage) -> str:
    """Every text part of a message, decoded, for greps."""
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts) + "\n" + "\n".join(f"{k}: {v}" for k, v in message.items())
