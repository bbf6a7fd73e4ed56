"""Routes of the customer API: start a conversation, send a message, read it back, follow events."""

from __future__ import annotations

import functools
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.channels.web import sse
from bot.channels.web.bodies import CustomerMessage, NewConversation, started_body, transcript_body, turn_body
from bot.channels.web.context import CONVERSATION_ID, WebContext, bearer, context
from bot.channels.web.inputs import fields_of, parse_object
from bot.channels.web.ratelimit import Name, retry_after
from bot.channels.web.replies import error, json_ok, not_found
from bot.engine.model import Incoming

START_FIELDS = fields_of(NewConversation)
MESSAGE_FIELDS = fields_of(CustomerMessage)
CHANNEL = "web"


def _limited(ctx: WebContext, name: Name, wait: float) -> Response:
    ctx.metrics.rejected.labels(name).inc()
    what = {
        "ip": "requests from your address",
        "start": "new conversations from your address",
        "conversation": "messages in this conversation",
    }[name]
    return error(
        429,
        f"Too many {what}; wait {retry_after(wait)} s and try again.",
        {"Retry-After": retry_after(wait)},
    )


def json_type(request: Request) -> Response | None:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind != "application/json":
        return error(415, f"Send the body as application/json, not {kind or 'nothing'}.")
    return None


async def authorised(request: Request, ctx: WebContext) -> tuple[str, Response | None]:
    """The conversation id from the path, or the 429/401/404 response to send instead."""
    conversation_id = request.path_params["conversation_id"]
    wait = await ctx.limiter.hit("ip", ctx.ip(request))
    if wait:
        return conversation_id, _limited(ctx, "ip", wait)
    token = bearer(request)
    if token is None:
        return conversation_id, error(
            401,
            "Send the conversation's token as 'Authorization: Bearer TOKEN'.",
            {"WWW-Authenticate": 'Bearer realm="supportbot"'},
        )
    if not CONVERSATION_ID.fullmatch(conversation_id):
        return conversation_id, not_found()
    if not await ctx.service.check_token(conversation_id, token):
        return conversation_id, not_found()
    return conversation_id, None


async def start(request: Request) -> Response:
    ctx = context(request)
    ip = ctx.ip(request)
    for name in ("ip", "start"):
        wait = await ctx.limiter.hit(name, ip)
        if wait:
            return _limited(ctx, name, wait)
    if (refused := json_type(request)) is not None:
        return refused
    body = parse_object(await request.body(), START_FIELDS)
    began = time.perf_counter()
    # The address is offered to the flow; the flow asks the customer before probing it.
    started = await ctx.service.start(body.get("flow"), CHANNEL, customer={"ip": ip})
    ctx.metrics.observe_turn(CHANNEL, time.perf_counter() - began, started.turn, "active")
    location = f"/api/conversations/{started.conversation_id}"
    response = json_ok(started_body(started), status=201)
    response.headers["Location"] = location
    return response


async def message(request: Request) -> Response:
    ctx = context(request)
    conversation_id, refused = await authorised(request, ctx)
    if refused is not None:
        return refused
    wait = await ctx.limiter.hit("conversation", conversation_id)
    if wait:
        return _limited(ctx, "conversation", wait)
    if (refused := json_type(request)) is not None:
        return refused
    body = parse_object(await request.body(), MESSAGE_FIELDS)
    if ("text" in body) == ("choice" in body):
        return error(400, 'Send exactly one of "text" (what the customer typed) or "choice" (a choice id).')
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200 and key.isascii() and key.isprintable()):
        return error(400, "Idempotency-Key must be 1 to 200 printable ASCII characters.")
    began = time.perf_counter()
    turn = await ctx.service.reply(
        conversation_id, Incoming(text=body.get("text"), choice=body.get("choice")), idempotency_key=key
    )
    ctx.metrics.observe_turn(CHANNEL, time.perf_counter() - began, turn, "")
    return json_ok(turn_body(turn))


async def transcript(request: Request) -> Response:
    ctx = context(request)
    conversation_id, refused = await authorised(request, ctx)
    if refused is not None:
        return refused
    return json_ok(transcript_body(await ctx.service.transcript(conversation_id)))


async def events(request: Request) -> Response:
    ctx = context(request)
    conversation_id, refused = await authorised(request, ctx)
    if refused is not None:
        return refused
    sent = request.headers.get("last-event-id", "").strip()
    if sent and not (sent.isascii() and sent.isdigit() and len(sent) <= 18):
        return error(400, "Last-Event-ID must be the id of an event this stream sent (a whole number).")
    after = int(sent) if sent else None
    catch_up = functools.partial(ctx.service.catch_up, conversation_id)

    async def body() -> Any:
        ctx.metrics.streams.inc()
        ctx.here(conversation_id, +1)
        try:
            async for frame in sse.stream(ctx.service.events, conversation_id, ctx.stopping, catch_up, after):
                yield frame
        finally:
            ctx.here(conversation_id, -1)
            ctx.metrics.streams.dec()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes = [
    Route("/api/conversations", start, methods=["POST"]),
    Route("/api/conversations/{conversation_id}/messages", message, methods=["POST"]),
    Route("/api/conversations/{conversation_id}", transcript, methods=["GET"]),
    Route("/api/conversations/{conversation_id}/events", events, methods=["GET"]),
]
