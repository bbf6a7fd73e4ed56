"""Routes of the agent API a helpdesk uses to claim, answer and hand back a conversation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.web.context import CONVERSATION_ID, bearer, context, same_secret
from bot.channels.web.inputs import MAX_AGENT_TEXT, MAX_NAME, Field, parse_object
from bot.channels.web.replies import error, json_ok, not_found, too_many_guesses

AGENT = {"agent": Field(MAX_NAME, required=True)}


def _plain(value: Any) -> Any:
    """Service results as JSON: dicts pass, objects with to_json() are asked, the rest is dropped."""
    if isinstance(value, dict):
        return value
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else None


async def _guard(request: Request) -> tuple[str, Response | None]:
    ctx = context(request)
    conversation_id = request.path_params["conversation_id"]
    key = ctx.settings.agent_api_key
    if key is None:
        return conversation_id, error(
            403, "The agent API is turned off; set SUPPORTBOT_AGENT_API_KEY to turn it on."
        )
    ip = ctx.ip(request)
    wait = ctx.auth.wait(ip)
    if wait:
        # Not even a right key is looked at now: that is what makes guessing slow.
        return conversation_id, too_many_guesses("agent API keys", wait)
    token = bearer(request)
    if token is None or not same_secret(token, key):
        if token is not None:
            ctx.auth.failed(ip)
        return conversation_id, error(
            401,
            "Send the agent API key as 'Authorization: Bearer KEY'.",
            {"WWW-Authenticate": 'Bearer realm="supportbot-agent"'},
        )
    ctx.auth.succeeded(ip)
    if not CONVERSATION_ID.fullmatch(conversation_id):
        return conversation_id, not_found()
    return conversation_id, None


async def claim(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), AGENT)
    ctx = context(request)
    await ctx.service.claim(conversation_id, body["agent"])
    # The agent learns at once whether a reply can also reach the customer by e-mail.
    email = await ctx.continuity.contact(conversation_id) if ctx.continuity is not None else None
    return json_ok(
        {"conversation": conversation_id, "status": "with_agent", "agent": body["agent"], "email": email}
    )


async def message(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), {**AGENT, "text": Field(MAX_AGENT_TEXT, required=True)})
    ctx = context(request)
    sent = await ctx.service.agent_message(conversation_id, body["agent"], body["text"])
    if ctx.continuity is not None and conversation_id not in ctx.present:
        # Nobody has the conversation open here: the reply also goes out by e-mail, if we have one.
        ctx.continuity.agent_replied(conversation_id, body["agent"], body["text"])
    out = _plain(sent) or {"role": "agent", "type": "text", "text": body["text"]}
    return json_ok({"conversation": conversation_id, "message": out}, status=201)


async def hand_back(request: Request) -> Response:
    conversation_id, refused = await _guard(request)
    if refused is not None:
        return refused
    body = parse_object(await request.body(), {**AGENT, "step": Field(MAX_NAME)})
    turn = await context(request).service.hand_back(conversation_id, body["agent"], body.get("step"))
    return json_ok(turn)


routes = [
    Route("/api/agent/conversations/{conversation_id}/claim", claim, methods=["POST"]),
    Route("/api/agent/conversations/{conversation_id}/messages", message, methods=["POST"]),
    Route("/api/agent/conversations/{conversation_id}/handback", hand_back, methods=["POST"]),
]
