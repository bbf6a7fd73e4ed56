"""Routes that keep a customer reachable: contact e-mail, transcript by e-mail, resume links, mail in."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.web.context import WebContext, context
from bot.channels.web.conversations import authorised, json_type
from bot.channels.web.inputs import MAX_NAME, Field, parse_object
from bot.channels.web.replies import error, json_ok
from bot.continuity import inbound
from bot.continuity.service import Continuity

CONTACT_FIELDS = {"email": Field(300, required=True)}
RESUME_FIELDS = {"ticket": Field(MAX_NAME, required=True)}
MAX_INBOUND = 60 * 1024  # under the app's body cap; attachments are not wanted here


def _continuity(ctx: WebContext) -> Continuity | Response:
    if ctx.continuity is None:
        return error(503, "Contact by e-mail is not set up on this server.")
    return ctx.continuity


async def contact(request: Request) -> Response:
    ctx = context(request)
    conversation_id, refused = await authorised(request, ctx)
    if refused is not None:
        return refused
    if (refused := json_type(request)) is not None:
        return refused
    body = parse_object(await request.body(), CONTACT_FIELDS)
    continuity = _continuity(ctx)
    if isinstance(continuity, Response):
        return continuity
    address = await continuity.set_contact(conversation_id, body["email"])
    return json_ok({"conversation": conversation_id, "email": address})


async def transcript_email(request: Request) -> Response:
    ctx = context(request)
    conversation_id, refused = await authorised(request, ctx)
    if refused is not None:
        return refused
    continuity = _continuity(ctx)
    if isinstance(continuity, Response):
        return continuity
    sent_to = await continuity.mail_transcript(conversation_id)
    return json_ok({"conversation": conversation_id, "sent_to": sent_to}, status=202)


async def resume(request: Request) -> Response:
    ctx = context(request)
    wait = await ctx.limiter.hit("ip", ctx.ip(request))
    if wait:
        return error(429, "Too many requests from your address; try again shortly.", {"Retry-After": "5"})
    if (refused := json_type(request)) is not None:
        return refused
    body = parse_object(await request.body(), RESUME_FIELDS)
    continuity = _continuity(ctx)
    if isinstance(continuity, Response):
        return continuity
    resumed = await continuity.redeem(body["ticket"])
    if resumed is None:
        return error(
            404,
            "This link was already used or has expired. Ask for a new one by replying to the e-mail, "
            "or start a new conversation.",
        )
    turn = dict(resumed.turn)
    turn["token"] = resumed.token
    return json_ok(turn)


async def inbound_email(request: Request) -> Response:
    ctx = context(request)
    secret = ctx.settings.inbound_secret
    if not secret or ctx.continuity is None:
        return error(403, "Inbound e-mail is turned off; set SUPPORTBOT_INBOUND_SECRET to turn it on.")
    raw = await request.body()
    if len(raw) > MAX_INBOUND:
        return error(413, f"The inbound e-mail is larger than {MAX_INBOUND // 1024} KB; strip attachments.")
    fields = await _fields(request, raw)
    if isinstance(fields, Response):
        return fields
    problem = inbound.verify(raw, fields, request.headers.get(inbound.SIGNATURE_HEADER), secret)
    if problem is not None:
        return error(401, f"Unsigned or badly signed inbound e-mail: {problem}.")
    mail = inbound.parse(fields)
    if mail.replay_key is not None and await ctx.service.seen_event(mail.replay_key):
        return json_ok({"status": "duplicate"})
    conversation_id = await ctx.continuity.inbound(mail.recipients, mail.sender, mail.text)
    return json_ok({"status": "added", "conversation": conversation_id})


async def _fields(request: Request, raw: bytes) -> dict[str, str] | Response:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return error(400, "The inbound e-mail is not valid JSON.")
        if not isinstance(data, dict):
            return error(400, "The inbound e-mail must be a JSON object (Postmark's inbound format).")
        return {k: v for k, v in data.items() if isinstance(v, str)}
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if kind == "multipart/form-data":
        form = await request.form(max_files=0, max_fields=200)
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return error(415, "Send the inbound e-mail as multipart/form-data, form-urlencoded or JSON.")


routes = [
    Route("/api/conversations/resume", resume, methods=["POST"]),
    Route("/api/conversations/{conversation_id}/contact", contact, methods=["POST"]),
    Route("/api/conversations/{conversation_id}/transcript/email", transcript_email, methods=["POST"]),
    Route("/api/inbound/email", inbound_email, methods=["POST"]),
]
