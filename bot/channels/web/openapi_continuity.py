"""The OpenAPI paths of the continuity routes (contact, transcript by e-mail, resume, inbound mail)."""

from __future__ import annotations

from typing import Any

from bot.channels.web.inputs import MAX_NAME

_ERROR = {"$ref": "#/components/schemas/Error"}
_CONV_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _ok(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "additionalProperties": False, "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_CUSTOMER_ERRORS = {
    "400": _err("Malformed body, or the e-mail address is not one (the message says how to write it)."),
    "401": _err("No 'Authorization: Bearer TOKEN' header."),
    "404": _err("No conversation with that id and token."),
    "413": _err("Body larger than 64 KB."),
    "415": _err("Body not sent as application/json."),
    "429": _err("Too many requests from this address."),
    "503": _err("Contact by e-mail is not set up on this server."),
}


def paths() -> dict[str, Any]:
    return {
        "/api/conversations/{conversation_id}/contact": {
            "post": {
                "summary": "Where to e-mail the customer when they have left (asked at the hand-over)",
                "parameters": [_CONV_ID],
                "security": [{"conversationToken": []}],
                "requestBody": _body({"email": {"type": "string", "maxLength": 300}}, ["email"]),
                "responses": {
                    "200": _ok("Stored; the hand-over packet carries it.", {"email": {"type": "string"}}),
                    **_CUSTOMER_ERRORS,
                },
            }
        },
        "/api/conversations/{conversation_id}/transcript/email": {
            "post": {
                "summary": "E-mail the transcript to the conversation's contact address",
                "parameters": [_CONV_ID],
                "security": [{"conversationToken": []}],
                "responses": {
                    "202": _ok("Sent to the mail server.", {"sent_to": {"type": "string"}}),
                    **{k: v for k, v in _CUSTOMER_ERRORS.items() if k != "415"},
                },
            }
        },
        "/api/conversations/resume": {
            "post": {
                "summary": "Exchange a single-use ticket (the link in an e-mail) for a token of the conversation",
                "requestBody": _body({"ticket": {"type": "string", "maxLength": MAX_NAME}}, ["ticket"]),
                "responses": {
                    "200": {
                        "description": "The transcript so far, with a new token for this browser.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [
                                        {"$ref": "#/components/schemas/Turn"},
                                        {"type": "object", "required": ["token"]},
                                    ]
                                }
                            }
                        },
                    },
                    "400": _CUSTOMER_ERRORS["400"],
                    "404": _err("The ticket was already used, has expired or never existed."),
                    "413": _CUSTOMER_ERRORS["413"],
                    "415": _CUSTOMER_ERRORS["415"],
                    "429": _CUSTOMER_ERRORS["429"],
                    "503": _CUSTOMER_ERRORS["503"],
                },
            }
        },
        "/api/inbound/email": {
            "post": {
                "summary": "A customer's e-mailed reply, from a mail provider's inbound-parse webhook",
                "description": (
                    "SendGrid (from, to, text), Mailgun (sender, recipient, stripped-text; signed with "
                    "timestamp/token/signature) or Postmark (JSON: From, To, StrippedTextReply) fields. "
                    "Signed with SUPPORTBOT_INBOUND_SECRET: Mailgun's own signature, or "
                    "'X-Supportbot-Signature: sha256=<hex HMAC-SHA256 of the body>'."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {"schema": {"type": "object"}},
                        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "200": _ok(
                        "Added to the conversation (or a repeated delivery).", {"status": {"type": "string"}}
                    ),
                    "400": _err("Not a reply to an address we gave out, wrong sender, or no text."),
                    "401": _err("Unsigned or badly signed."),
                    "403": _err("Inbound e-mail is turned off (SUPPORTBOT_INBOUND_SECRET unset)."),
                    "404": _err("The conversation no longer exists."),
                    "413": _err("Too large."),
                    "415": _err("Not form data or JSON."),
                },
            }
        },
        "/widget/config.json": {
            "get": {
                "summary": "Whether the calling page's origin may embed the widget, and whether e-mail is set up",
                "responses": {
                    "200": _ok(
                        "Readable from any origin.",
                        {
                            "allowed": {"type": "boolean"},
                            "mail": {"type": "boolean"},
                            "message": {"type": "string"},
                        },
                    )
                },
            }
        },
    }
