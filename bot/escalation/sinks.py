"""Where escalations go: the Sink port, and the webhook and e-mail sinks (Slack's lives with the Slack channel)."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid, parsedate_to_datetime
from typing import Any, Protocol

import httpx

from bot.errors import DeliveryError
from bot.escalation.packet import render_html, render_text
from bot.mailer import Mailer, smtp_target

SIGNATURE_HEADER = "X-Supportbot-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class Sink(Protocol):
    """Delivers one handoff packet; raises DeliveryError (with retry_after / permanent) when it can't."""

    name: str

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None: ...


def sign(body: bytes, secret: str) -> str:
    """The value of X-Supportbot-Signature: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    # RFC 9110 also allows an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT").
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookSink:
    """POSTs the packet as JSON to a helpdesk, signed with HMAC-SHA256."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        # Building an SSL context reads the whole CA store (tens of ms on the event loop): once per
        # sink, not once per delivery, or every escalation stalls every conversation in the process.
        self._ssl: ssl.SSLContext | None = None

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        body = json.dumps({**packet, "idempotency_key": idempotency_key}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "supportbot"}
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        try:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            async with httpx.AsyncClient(timeout=self.timeout, verify=self._ssl) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.url} unreachable: {type(exc).__name__}") from None
        if response.is_success:
            return
        retry = retry_after_seconds(response.headers.get("Retry-After"))
        status = response.status_code
        permanent = 400 <= status < 500 and status not in (408, 409, 425, 429)
        raise DeliveryError(f"webhook answered {status}", retry_after=retry, permanent=permanent)


class EmailSink:
    """Sends the summary and transcript to the support mailbox through SMTP_URL."""

    name = "email"

    def __init__(self, smtp_url: str, to: str, sender: str | None = None, timeout: float = 20.0) -> None:
        self.mailer = Mailer(smtp_url, sender or f"supportbot@{smtp_target(smtp_url).host}", timeout)
        self.to = to

    def message(self, packet: Mapping[str, Any], idempotency_key: str | None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.mailer.sender
        msg["To"] = self.to
        msg["Subject"] = f"[supportbot] {packet['reason'][:120]}"
        # A Message-ID made from the idempotency key lets a mail system drop a repeated delivery.
        msg["Message-ID"] = f"<{idempotency_key}@supportbot>" if idempotency_key else make_msgid("supportbot")
        if idempotency_key:
            msg[IDEMPOTENCY_HEADER] = idempotency_key
        msg.set_content(render_text(dict(packet)))
        msg.add_alternative(render_html(dict(packet)), subtype="html")
        return msg

    async def deliver(self, packet: Mapping[str, Any], idempotency_key: str | None = None) -> None:
        await self.mailer.send(self.message(packet, idempotency_key))
