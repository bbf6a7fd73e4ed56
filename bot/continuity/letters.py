"""The e-mails a customer gets from the bot: an agent's reply after they left, and their transcript."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

_WHO = {"bot": "Support bot", "agent": "Support agent", "user": "You"}


def _base(to: str, subject: str, reply_to: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid("supportbot")
    if reply_to:
        msg["Reply-To"] = reply_to
    # Automatic replies (out-of-office) must not come back into the conversation as the customer.
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def agent_reply(
    *, to: str, agent: str, text: str, link: str, title: str, reply_to: str | None
) -> EmailMessage:
    msg = _base(to, f"{agent} replied: {title}", reply_to)
    how = "Reply to this e-mail, or continue" if reply_to else "Continue"
    msg.set_content(
        f"{agent} from our support team replied to your conversation:\n\n"
        f"{_quote(text)}\n\n"
        f"{how} the conversation here (the link works once, and opens it where you left off):\n"
        f"{link}\n"
    )
    return msg


def transcript(
    *, to: str, messages: Sequence[dict[str, Any]], link: str | None, title: str, reply_to: str | None
) -> EmailMessage:
    msg = _base(to, f"Your conversation: {title}", reply_to)
    lines = []
    for m in messages:
        who = str(m.get("agent") or _WHO.get(str(m.get("role")), "Support bot"))
        text = str(m.get("text") or "")
        probe = m.get("probe")
        if isinstance(probe, dict) and probe.get("summary"):
            text = f"[{probe.get('status', '?')}] {probe['summary']}"
        lines.append(f"{who}: {text}")
    tail = f"\n\nContinue the conversation (the link works once):\n{link}\n" if link else "\n"
    msg.set_content(
        "Here is the conversation you had with our support, as you asked. Anything that looked like a "
        "password or key was replaced with [redacted].\n\n" + "\n".join(lines) + tail
    )
    return msg


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])
