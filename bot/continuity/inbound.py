"""Inbound-parse webhooks of the common mail providers: the signature, the addresses and the new text."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses

from bot.errors import InputError

SIGNATURE_HEADER = "x-supportbot-signature"
MAX_AGE_SECONDS = 600  # a signed timestamp older than this is a replay
# Where the quoted earlier message starts in a reply: "On Tue, … wrote:", "-----Original Message-----".
_QUOTE_START = re.compile(r"^(On .{1,300} wrote:|-{2,} ?Original Message ?-{2,}|From: .+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class InboundMail:
    sender: str
    recipients: list[str]
    text: str
    replay_key: str | None = None  # a provider's one-time token, recorded so a replay is refused


def verify(body: bytes, fields: Mapping[str, str], header: str | None, secret: str) -> str | None:
    """None when signed with `secret` (our header over the raw body, or Mailgun's timestamp+token
    signature), else what is wrong."""
    key = secret.encode()
    if header:
        given = header.removeprefix("sha256=").strip()
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(given, expected) else "the X-Supportbot-Signature does not match"
    timestamp, token, signature = (fields.get(k, "") for k in ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        return "send X-Supportbot-Signature: sha256=<HMAC of the body> or Mailgun's timestamp/token/signature"
    expected = hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return "the Mailgun signature does not match"
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return "the signed timestamp is more than 10 minutes away from now"
    return None


def parse(fields: Mapping[str, str]) -> InboundMail:
    """SendGrid (from, to, text), Mailgun (sender, recipient, stripped-text, body-plain) or
    Postmark (From, To, StrippedTextReply, TextBody) field names."""

    def first(*names: str) -> str:
        for name in names:
            value = fields.get(name)
            if value:
                return value
        return ""

    sender = _addresses(first("sender", "from", "From", "FromFull"))
    recipients = _addresses(first("recipient", "to", "To", "OriginalRecipient")) + _addresses(
        first("envelope_to", "cc", "Cc")
    )
    stripped = first("stripped-text", "StrippedTextReply")
    text = stripped or _new_part(first("text", "body-plain", "TextBody"))
    if not sender:
        raise InputError("The inbound e-mail has no sender (field 'from', 'sender' or 'From').")
    if not recipients:
        raise InputError("The inbound e-mail has no recipient (field 'to', 'recipient' or 'To').")
    token = fields.get("token")
    return InboundMail(sender[0], recipients, text.strip(), f"inbound:{token}" if token else None)


def _addresses(value: str) -> list[str]:
    return [address for _, address in getaddresses([value]) if "@" in address]


def _new_part(text: str) -> str:
    """The reply above the quoted earlier message."""
    kept = []
    for line in text.splitlines():
        if line.startswith(">") or _QUOTE_START.match(line):
            break
        kept.append(line)
    return "\n".join(kept)
