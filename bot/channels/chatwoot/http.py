"""POST /chatwoot/events: the shared secret in the URL checked, the event read, handled after answering."""

from __future__ import annotations

import hmac
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.chatwoot.channel import ChatwootChannel
from bot.channels.chatwoot.events import parse
from bot.errors import InputError

MAX_BODY = 256 * 1024  # an event is a few KB; the conversation's recent messages ride along


def chatwoot_routes(channel: ChatwootChannel, secret: str) -> list[BaseRoute]:
    async def events(request: Request) -> Response:
        # Chatwoot does not sign agent-bot webhooks, so the URL it calls carries a shared secret.
        given = request.query_params.get("token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse(
                {
                    "error": "unknown token: the Agent Bot's webhook URL must end in ?token=<SUPPORTBOT_CHATWOOT_SECRET>"
                },
                status_code=401,
            )
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": f"an event is at most {MAX_BODY} bytes"}, status_code=413)
        try:
            event = parse(json.loads(raw))
        except (ValueError, InputError) as exc:
            return JSONResponse({"error": f"not a Chatwoot event: {exc}"}, status_code=400)
        channel.accept(event)  # Chatwoot waits for this answer; the turn and the posts happen after it
        return JSONResponse({"accepted": event.kind}, status_code=202)

    return [Route("/chatwoot/events", events, methods=["POST"])]
