"""Sends one e-mail through SMTP_URL (plain SMTP, STARTTLS when offered, or implicit TLS with smtps)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.errors import ConfigError, DeliveryError


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def smtp_target(smtp_url: str) -> SmtpTarget:
    """SMTP_URL parsed; ConfigError showing the two accepted shapes."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"SMTP_URL={smtp_url!r} must look like smtp://user:pass@host:587 or smtps://host:465"
        )
    implicit_tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit_tls else 587),
        implicit_tls=implicit_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class Mailer:
    """What the bot sends to customers itself (agent replies, transcripts), one message at a time."""

    def __init__(self, smtp_url: str, sender: str, timeout: float = 20.0) -> None:
        self.target = smtp_target(smtp_url)
        self.sender = sender
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.sender
        t = self.target
        try:
            await aiosmtplib.send(
                message,
                hostname=t.host,
                port=t.port,
                username=t.username,
                password=t.password,
                use_tls=t.implicit_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"mail server answered {exc.code}", permanent=500 <= exc.code < 600) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"mail server unreachable: {type(exc).__name__}") from None
