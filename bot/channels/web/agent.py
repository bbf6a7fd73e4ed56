"""Routes of the agent API a helpdesk uses to claim, answer and hand back a conversation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.web.bodies import (
    AgentName,
    AgentText,
    HandBack,
    agent_message_body,
    claimed_body,
    turn_body,
)
from bot.channels.web.context import CONVERSATION_ID, bearer, context, same_secret
from bot.channels.web.inputs import fields_of, parse_object
from bot.channels.web.replies import error, json_ok, not_found, too_many_guesses

AGENT = fields_of(AgentName)
AGENT_TEXT = fields_of(AgentText)
HAND_BACK = fields_of(HandBack)


async def _guard(request: Request) -> tuple[str, Response | None]:
    ctx = context(request)
    conversation_id = request.path_params["conversation_id"]
    key = ctx.settings.agent_api_key
    if key is None:
        return conversation_id, error(
            403, "The agent API is turned off; set SUPPORTBOT_AGENT_API_KEY to turn it on."
        )
    ip = ctx.ip(request)
    wait = await ctx.auth.wait(ip)
    if wait:
        # Not even a right key is looked at now: that is what makes guessing slow.
        return conversation_id, too_many_guesses("agent API keys", wait)
    token = bearer(request)
    if token is None or not same_secret(token, key):
        if token is not None:
            await ctx.auth.failed(ip)
        return conversation_id, error(
            401,
            "Send the agent API key as 'Authorization: Bearer KEY'.",
            {"WWW-Authenticate": 'Bearer realm="supportbot-agent"'},
        )
    await ctx.auth.succeeded(ip)
    if not CONVERSATION_ID.fullmatch(conversation_id):
        return conversation_id, not_found()
    return conversation_id, None


async def claim(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), AGENT)
    ctx = context(request)
    claimed = await ctx.service.claim(conversation_id, body["agent"])
    # The agent learns at once whether a reply can also reach the customer by e-mail.
    email = await ctx.continuity.contact(conversation_id) if ctx.continuity is not None else None
    return json_ok(claimed_body(claimed, email))


async def message(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), AGENT_TEXT)
    ctx = context(request)
    sent = await ctx.service.agent_message(conversation_id, body["agent"], body["text"])
    if ctx.continuity is not None and conversation_id not in ctx.present:
        # Nobody has the conversation open here: the reply also goes out by e-mail, if we have one.
        ctx.continuity.agent_replied(conversation_id, body["agent"], body["text"])
    return json_ok(agent_message_body(sent), status=201)


async def hand_back(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), HAND_BACK)
    turn = await context(request).service.hand_back(conversation_id, body["agent"], body.get("step"))
    return json_ok(turn_body(turn))


routes = [
    Route("/api/agent/conversations/{conversation_id}/claim", claim, methods=["POST"]),
    Route("/api/agent/conversations/{conversation_id}/messages", message, methods=["POST"]),
    Route("/api/agent/conversations/{conversation_id}/handback", hand_back, methods=["POST"]),
]
