"""Reaching a customer after the hand-over: their e-mail, single-use links back, mail out and in."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.continuity import letters
from bot.continuity.contact import clean_email
from bot.engine.model import Incoming
from bot.errors import InputError
from bot.mailer import Mailer
from bot.service import ConversationService
from bot.storage import access, store

log = logging.getLogger(__name__)
TICKET_SECONDS = 7 * 24 * 3600.0  # a link in an e-mail: read within a week
SESSION_SECONDS = 30 * 24 * 3600.0  # the token a ticket is exchanged for


@dataclass(frozen=True)
class Resumed:
    conversation_id: str
    token: str
    turn: dict[str, Any]


@dataclass(frozen=True)
class MailSettings:
    """What mail to customers needs: the SMTP server, links back to the panel, and inbound replies."""

    smtp_url: str | None = None
    sender: str | None = None
    public_url: str | None = None  # where the bot is reached from the internet, for links in e-mails
    reply_address: str | None = None  # e.g. support@example.com: replies go to support+<tag>@example.com
    inbound_secret: str | None = None  # signs the inbound webhook and the reply addresses

    @property
    def can_mail(self) -> bool:
        return bool(self.smtp_url and self.public_url)


class Continuity:
    """Contact, tickets, and mail; conversations themselves are read and changed through the service."""

    def __init__(self, service: ConversationService, settings: MailSettings) -> None:
        self.service = service
        self.settings = settings
        self.mailer: Mailer | None = None
        if settings.smtp_url and settings.public_url:
            self.mailer = Mailer(settings.smtp_url, settings.sender or "supportbot@localhost")
        self._sending: set[asyncio.Task[None]] = set()

    # -- contact ---------------------------------------------------------------------------------

    async def set_contact(self, conversation_id: str, email: str) -> str:
        address = clean_email(email)
        note = {
            "role": "bot",
            "type": "text",
            "text": f"Thanks. If you leave, replies will be e-mailed to {address}.",
        }
        async with self.service.driver.write() as s:
            customer = await access.customer(s, conversation_id)
            customer["email"] = address
            await access.set_customer(s, conversation_id, customer)
            await access.set_packet_customer(s, conversation_id, customer)
            await store.add_messages(s, conversation_id, [note])
        await self.service.events.publish(conversation_id, {"type": "message", "message": note})
        return address

    async def contact(self, conversation_id: str) -> str | None:
        async with self.service.driver.read() as s:
            value = (await access.customer(s, conversation_id)).get("email")
        return value if isinstance(value, str) else None

    # -- tickets and sessions --------------------------------------------------------------------

    async def issue_ticket(self, conversation_id: str) -> str:
        ticket = secrets.token_urlsafe(32)
        async with self.service.driver.write() as s:
            await access.add(s, conversation_id, ticket, "ticket", TICKET_SECONDS)
        return ticket

    async def redeem(self, ticket: str) -> Resumed | None:
        """Spend a ticket for a new session token; None when it is unknown, spent or expired."""
        token = secrets.token_urlsafe(32)
        async with self.service.driver.write() as s:
            conversation_id = await access.spend_ticket(s, ticket)
            if conversation_id is None:
                return None
            await access.add(s, conversation_id, token, "session", SESSION_SECONDS)
        return Resumed(conversation_id, token, await self.service.transcript(conversation_id))

    def link(self, ticket: str, flow_id: str, title: str) -> str:
        base = (self.settings.public_url or "").rstrip("/")
        return f"{base}/widget/panel.html#" + urlencode({"resume": ticket, "flow": flow_id, "title": title})

    # -- mail out --------------------------------------------------------------------------------

    def agent_replied(self, conversation_id: str, agent: str, text: str) -> None:
        """E-mail an agent's reply to a customer who is not in the conversation now (in the background,
        so the agent's request does not wait on SMTP; a failure is logged, the reply stays stored)."""
        if self.mailer is not None:
            self._spawn(self._mail_reply(conversation_id, agent, text))

    async def _mail_reply(self, conversation_id: str, agent: str, text: str) -> None:
        to = await self.contact(conversation_id)
        if to is None or self.mailer is None:
            return
        flow_id, title = await self._flow(conversation_id)
        link = self.link(await self.issue_ticket(conversation_id), flow_id, title)
        await self.mailer.send(
            letters.agent_reply(
                to=to, agent=agent, text=text, link=link, title=title, reply_to=self.reply_to(conversation_id)
            )
        )

    async def mail_transcript(self, conversation_id: str) -> str:
        """Send the transcript to the conversation's contact; the address it went to."""
        if self.mailer is None:
            raise InputError("E-mail is not set up on this server (SMTP_URL and SUPPORTBOT_PUBLIC_URL).")
        to = await self.contact(conversation_id)
        if to is None:
            raise InputError("Give an e-mail address first (POST .../contact), then ask for the transcript.")
        flow_id, title = await self._flow(conversation_id)
        messages = (await self.service.transcript(conversation_id))["messages"]
        link = self.link(await self.issue_ticket(conversation_id), flow_id, title)
        await self.mailer.send(
            letters.transcript(
                to=to, messages=messages, link=link, title=title, reply_to=self.reply_to(conversation_id)
            )
        )
        return to

    async def _flow(self, conversation_id: str) -> tuple[str, str]:
        conv = await self.service.state(conversation_id)
        flow = self.service.engine.registry.get(conv.flow_id, conv.version)
        return conv.flow_id, flow.title

    def _spawn(self, job: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(job)
        self._sending.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._sending.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("e-mail to a customer failed: %s", t.exception())

        task.add_done_callback(done)

    async def drain(self) -> None:
        """Wait for mail being sent (shutdown, tests)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    # -- mail in ---------------------------------------------------------------------------------

    def reply_to(self, conversation_id: str) -> str | None:
        """support+<conversation>.<tag>@domain: the tag (an HMAC) stops anyone writing into a
        conversation whose id they guessed or saw."""
        address, secret = self.settings.reply_address, self.settings.inbound_secret
        if not address or not secret or "@" not in address:
            return None
        local, _, domain = address.rpartition("@")
        return f"{local}+{conversation_id}.{self._tag(conversation_id)}@{domain}"

    def _tag(self, conversation_id: str) -> str:
        secret = (self.settings.inbound_secret or "").encode()
        return hmac.new(secret, conversation_id.encode(), hashlib.sha256).hexdigest()[:20]

    def conversation_for(self, recipients: list[str]) -> str | None:
        """The conversation a reply address names, when its tag is right."""
        for recipient in recipients:
            local = recipient.rpartition("@")[0]
            _, plus, tagged = local.partition("+")
            conversation_id, dot, tag = tagged.rpartition(".")
            if plus and dot and hmac.compare_digest(tag, self._tag(conversation_id)):
                return conversation_id
        return None

    async def inbound(self, recipients: list[str], sender: str, text: str) -> str:
        """A customer's e-mailed reply into its conversation; the conversation id.

        InputError when the address is not one we gave out or the sender is not the contact."""
        conversation_id = self.conversation_for(recipients)
        if conversation_id is None:
            raise InputError("No recipient is a reply address this server gave out (support+<id>.<tag>@…).")
        expected = await self.contact(conversation_id)
        if expected is None or clean_email(sender).lower() != expected.lower():
            raise InputError("The sender is not the e-mail address this conversation's customer gave.")
        if not text.strip():
            raise InputError("The e-mail has no text to add to the conversation.")
        await self.service.reply(conversation_id, Incoming(text=text.strip()[:2000]))
        return conversation_id
