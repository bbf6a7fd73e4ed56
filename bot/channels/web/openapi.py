"""The OpenAPI 3.1 document of the web API: pydantic's JSON Schema of the typed bodies, and a table of operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from bot.channels.web import bodies

REF = "#/components/schemas/{model}"
DESCRIPTION = (
    "The widget API (a customer's conversation, authorised by the token returned at creation) and the "
    "agent API (a helpdesk answering an escalated conversation, authorised by SUPPORTBOT_AGENT_API_KEY). "
    'Errors are {"error": code, "message": text}.'
)


@dataclass(frozen=True)
class Reply:
    """One documented response: a JSON body of `body`, or `media` with a plain string schema."""

    description: str
    body: type | None = bodies.Error
    media: str | None = None
    retry_after: bool = False


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    replies: dict[int, Reply]
    request: type | None = None
    raw_request: dict[str, Any] | None = None  # content by media type, for a body that is not one type
    request_required: bool = True
    security: str | None = None  # "conversationToken" or "agentKey"
    description: str | None = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)  # header parameters

    @property
    def has_conversation(self) -> bool:
        return "{conversation_id}" in self.path


# The answers the guards give, shared by the operations they guard.
MALFORMED = Reply("Malformed JSON, invalid UTF-8, NUL characters, unknown fields or too-long text.")
TOO_LARGE = Reply("Body larger than 64 KB (refused before parsing).")
NOT_JSON = Reply("Body not sent as application/json.")
LIMITED = Reply("Too many requests from this address or in this conversation.", retry_after=True)
BODY = {400: MALFORMED, 413: TOO_LARGE, 415: NOT_JSON, 429: LIMITED}
TOKEN = {
    401: Reply("No 'Authorization: Bearer TOKEN' header."),
    404: Reply("No conversation with that id and token (the same answer for both)."),
}
AGENT = {
    401: Reply("Missing or wrong agent API key."),
    403: Reply("The agent API is turned off (SUPPORTBOT_AGENT_API_KEY unset)."),
    404: Reply("No such conversation."),
    400: MALFORMED,
    413: TOO_LARGE,
    429: Reply(
        "Too many wrong keys from this address (or from everyone lately); not checked until then.",
        retry_after=True,
    ),
}
NO_MAIL = Reply("Contact by e-mail is not set up on this server.")
CONVERSATIONS = "/api/conversations/{conversation_id}"


def _agent_operation(action: str, summary: str, request: type, status: int, answer: Reply) -> Operation:
    """An agent API call: a POST under the conversation, authorised by the agent key."""
    path = f"/api/agent/conversations/{{conversation_id}}/{action}"
    return Operation(path, "post", summary, {status: answer, **AGENT}, request=request, security="agentKey")


OPERATIONS = (
    Operation(
        "/api/conversations",
        "post",
        "Start a conversation",
        {
            201: Reply("The opening turn and the conversation's secret token.", bodies.Started),
            404: Reply("No flow with that id."),
            **BODY,
        },
        request=bodies.NewConversation,
        request_required=False,
    ),
    Operation(
        CONVERSATIONS,
        "get",
        "The transcript so far",
        {
            200: Reply("Every message so far, the status and what the bot awaits.", bodies.Transcript),
            **TOKEN,
            429: LIMITED,
        },
        security="conversationToken",
    ),
    Operation(
        f"{CONVERSATIONS}/messages",
        "post",
        "Send what the customer typed or picked",
        {
            200: Reply("The bot's answer: this turn's messages.", bodies.Turn),
            **TOKEN,
            409: Reply("Another message was handled at the same moment; send again."),
            422: Reply("The Idempotency-Key was used before with a different message; use a new key."),
            **BODY,
        },
        request=bodies.CustomerMessage,
        security="conversationToken",
        headers={
            "Idempotency-Key": {
                "description": "Retrying with the same key returns the first answer.",
                "schema": {"type": "string", "maxLength": 200},
            }
        },
    ),
    Operation(
        f"{CONVERSATIONS}/events",
        "get",
        "Live events (server-sent events)",
        {
            200: Reply("An endless event stream.", None, "text/event-stream"),
            400: Reply("Last-Event-ID is not an id this stream sends."),
            **TOKEN,
            429: LIMITED,
        },
        security="conversationToken",
        description=(
            "text/event-stream. Each event has `id:`, `event:` message | status | probe and `data:` JSON "
            'such as {"type": "message", "message": {...}}. Comment lines keep the connection alive. '
            "Transcript lines stored from then on (agent replies, notes), status changes and probe "
            "progress arrive here. A message's id is its transcript line's; other events carry the id "
            "of the last line sent. Reconnect with `Last-Event-ID` to get the lines stored after it first."
        ),
        headers={
            "Last-Event-ID": {
                "description": "The last event id received: the lines stored after it are sent first.",
                "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
            }
        },
    ),
    _agent_operation(
        "claim",
        "An agent takes over the conversation (status becomes with_agent)",
        bodies.AgentName,
        200,
        Reply("Claimed.", bodies.Claimed),
    ),
    _agent_operation(
        "messages",
        "An agent's reply; the customer sees it live",
        bodies.AgentText,
        201,
        Reply("The message as the customer sees it.", bodies.AgentMessage),
    ),
    _agent_operation(
        "handback",
        (
            "Give the conversation back to the bot: at `step` when given, else at the last question the "
            "customer was on before the hand-over"
        ),
        bodies.HandBack,
        200,
        Reply("The bot's turn after taking over again.", bodies.Turn),
    ),
    Operation(
        f"{CONVERSATIONS}/contact",
        "post",
        "Where to e-mail the customer when they have left (asked at the hand-over)",
        {
            200: Reply("Stored; the hand-over packet carries it.", bodies.ContactSaved),
            **TOKEN,
            **BODY,
            400: Reply(
                "Malformed body, or the e-mail address is not one (the message says how to write it)."
            ),
            503: NO_MAIL,
        },
        request=bodies.Contact,
        security="conversationToken",
    ),
    Operation(
        f"{CONVERSATIONS}/transcript/email",
        "post",
        "E-mail the transcript to the conversation's contact address",
        {
            202: Reply("Sent to the mail server.", bodies.TranscriptSent),
            **TOKEN,
            400: Reply("No contact address yet, or e-mail is not set up here."),
            413: TOO_LARGE,
            429: LIMITED,
            503: NO_MAIL,
        },
        security="conversationToken",
    ),
    Operation(
        "/api/conversations/resume",
        "post",
        "Exchange a single-use ticket (the link in an e-mail) for a token of the conversation",
        {
            200: Reply("The transcript so far, with a new token for this browser.", bodies.Resumed),
            404: Reply("The ticket was already used, has expired or never existed."),
            **BODY,
            503: NO_MAIL,
        },
        request=bodies.Ticket,
    ),
    Operation(
        "/api/inbound/email",
        "post",
        "A customer's e-mailed reply, from a mail provider's inbound-parse webhook",
        {
            200: Reply("Added to the conversation (or a repeated delivery).", bodies.Inbound),
            400: Reply("Not a reply to an address we gave out, wrong sender, or no text."),
            401: Reply("Unsigned or badly signed."),
            403: Reply("Inbound e-mail is turned off (SUPPORTBOT_INBOUND_SECRET unset)."),
            404: Reply("The conversation no longer exists."),
            413: Reply("Too large."),
            415: Reply("Not form data or JSON."),
        },
        raw_request={
            media: {"schema": {"type": "object"}}
            for media in ("multipart/form-data", "application/x-www-form-urlencoded", "application/json")
        },
        description=(
            "SendGrid (from, to, text), Mailgun (sender, recipient, stripped-text; signed with "
            "timestamp/token/signature) or Postmark (JSON: From, To, StrippedTextReply) fields. Signed with "
            "SUPPORTBOT_INBOUND_SECRET: Mailgun's own signature, or "
            "'X-Supportbot-Signature: sha256=<hex HMAC-SHA256 of the body>'."
        ),
    ),
    Operation(
        "/widget/config.json",
        "get",
        "Whether the calling page's origin may embed the widget, and whether e-mail is set up",
        {200: Reply("Readable from any origin.", bodies.WidgetConfig)},
    ),
    Operation(
        "/healthz",
        "get",
        (
            "Health: 200 when the database answers, else 503; `rate_limits` says whether they are shared "
            "through Redis or counted in this process"
        ),
        {
            200: Reply("Healthy.", bodies.Health),
            503: Reply(
                "The database did not answer (or, with status not_ready and a reason, no flow is loaded)."
            ),
        },
    ),
    Operation(
        "/metrics", "get", "Prometheus metrics", {200: Reply("Text exposition format.", None, "text/plain")}
    ),
    Operation(
        "/openapi.json", "get", "This document", {200: Reply("OpenAPI 3.1.", None, "application/json")}
    ),
    Operation(
        "/widget.js",
        "get",
        "The embeddable widget script",
        {200: Reply("JavaScript.", None, "text/javascript")},
    ),
)
SECURITY = {
    "conversationToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token returned by POST /api/conversations.",
    },
    "agentKey": {"type": "http", "scheme": "bearer", "description": "The value of SUPPORTBOT_AGENT_API_KEY."},
}
CONVERSATION_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
}


def document(version: str, operations: tuple[Operation, ...] = OPERATIONS) -> dict[str, Any]:
    """The whole document; every body schema is generated from its type in `bodies`."""
    used: dict[type, JsonSchemaMode] = {}
    for op in operations:
        if op.request is not None:
            used[op.request] = "validation"
        used.update((r.body, "serialization") for r in op.replies.values() if r.body is not None)
    schemas = GenerateJsonSchema(ref_template=REF).generate_definitions(
        [(body.__name__, mode, TypeAdapter(body).core_schema) for body, mode in used.items()]
    )[1]
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "supportbot", "version": version, "description": DESCRIPTION},
        "components": {"securitySchemes": SECURITY, "schemas": schemas},
        "paths": paths,
    }


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary}
    if op.description:
        out["description"] = op.description
    parameters = [CONVERSATION_ID] if op.has_conversation else []
    parameters += [
        {"name": name, "in": "header", "required": False, **spec} for name, spec in op.headers.items()
    ]
    if parameters:
        out["parameters"] = parameters
    if op.security:
        out["security"] = [{op.security: []}]
    if op.request is not None:
        out["requestBody"] = {"required": op.request_required, "content": _json(op.request)}
    elif op.raw_request is not None:
        out["requestBody"] = {"required": True, "content": op.raw_request}
    out["responses"] = {str(code): _reply(reply) for code, reply in sorted(op.replies.items())}
    return out


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.body is not None:
        out["content"] = _json(reply.body)
    elif reply.media is not None:
        schema = {"type": "object"} if reply.media == "application/json" else {"type": "string"}
        out["content"] = {reply.media: {"schema": schema}}
    if reply.retry_after:
        out["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return out


def _json(body: type) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=body.__name__)}}}
