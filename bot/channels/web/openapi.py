"""The OpenAPI 3.1 document of the web API, written by hand so it says what clients need to know."""

from __future__ import annotations

from typing import Any

from bot.channels.web.inputs import MAX_AGENT_TEXT, MAX_NAME, MAX_TEXT

_ERROR = {"$ref": "#/components/schemas/Error"}


def _err(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR}},
    }
    if headers:
        out["headers"] = headers
    return out


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_RETRY = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
_COMMON = {
    "400": _err("Malformed JSON, invalid UTF-8, NUL characters, unknown fields or too-long text."),
    "413": _err("Body larger than 64 KB (refused before parsing)."),
    "415": _err("Body not sent as application/json."),
    "429": _err("Too many requests from this address or in this conversation.", _RETRY),
}
_CONV_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
}
_TOKEN_ERRORS = {
    "401": _err("No 'Authorization: Bearer TOKEN' header."),
    "404": _err("No conversation with that id and token (the same answer for both)."),
}
_AGENT_ERRORS = {
    "401": _err("Missing or wrong agent API key."),
    "403": _err("The agent API is turned off (SUPPORTBOT_AGENT_API_KEY unset)."),
    "404": _err("No such conversation."),
    "429": _err(
        "Too many wrong keys from this address (or from everyone lately); not checked until then.", _RETRY
    ),
}
_TURN = {"$ref": "#/components/schemas/Turn"}


def _agent_body(extra: dict[str, Any], required: list[str]) -> dict[str, Any]:
    props = {"agent": {"type": "string", "maxLength": MAX_NAME, "description": "Agent's name."}}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["agent", *required],
                    "properties": {**props, **extra},
                }
            }
        },
    }


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "supportbot",
            "version": version,
            "description": (
                "The widget API (a customer's conversation, authorised by the token returned at "
                "creation) and the agent API (a helpdesk answering an escalated conversation, "
                "authorised by SUPPORTBOT_AGENT_API_KEY). Errors are "
                '{"error": code, "message": text}.'
            ),
        },
        "components": {
            "securitySchemes": {
                "conversationToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token returned by POST /api/conversations.",
                },
                "agentKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The value of SUPPORTBOT_AGENT_API_KEY.",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
                "Message": {
                    "type": "object",
                    "required": ["role", "type", "text"],
                    "properties": {
                        "role": {"enum": ["bot", "agent", "user"]},
                        "type": {"enum": ["text", "probe", "handoff"]},
                        "text": {"type": "string"},
                        "probe": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "status": {"enum": ["pass", "warn", "fail", "unknown", "skipped"]},
                                "summary": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        },
                    },
                },
                "Awaiting": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "kind": {"const": "choice"},
                                "choices": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string"},
                                            "label": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                        {
                            "type": "object",
                            "properties": {"kind": {"const": "text"}, "hint": {"type": "string"}},
                        },
                        {"type": "null"},
                    ]
                },
                "Turn": {
                    "type": "object",
                    "required": ["conversation", "status", "messages", "awaiting"],
                    "properties": {
                        "conversation": {"type": "string"},
                        "status": {"enum": ["active", "resolved", "unresolved", "escalated", "with_agent"]},
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                        "awaiting": {"$ref": "#/components/schemas/Awaiting"},
                    },
                },
            },
        },
        "paths": {
            "/api/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {"flow": {"type": "string", "example": "cant-send-email"}},
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": _json(
                            {
                                "allOf": [
                                    _TURN,
                                    {
                                        "type": "object",
                                        "required": ["token"],
                                        "properties": {"token": {"type": "string"}},
                                    },
                                ]
                            },
                            "The opening turn and the conversation's secret token.",
                        ),
                        "404": _err("No flow with that id."),
                        **_COMMON,
                    },
                }
            },
            "/api/conversations/{conversation_id}": {
                "get": {
                    "summary": "The transcript so far",
                    "parameters": [_CONV_ID],
                    "security": [{"conversationToken": []}],
                    "responses": {
                        "200": _json(_TURN, "Every message so far, the status and what the bot awaits."),
                        **_TOKEN_ERRORS,
                        "429": _COMMON["429"],
                    },
                }
            },
            "/api/conversations/{conversation_id}/messages": {
                "post": {
                    "summary": "Send what the customer typed or picked",
                    "parameters": [
                        _CONV_ID,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Retrying with the same key returns the first answer.",
                            "schema": {"type": "string", "maxLength": 200},
                        },
                    ],
                    "security": [{"conversationToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "oneOf": [{"required": ["text"]}, {"required": ["choice"]}],
                                    "properties": {
                                        "text": {"type": "string", "maxLength": MAX_TEXT},
                                        "choice": {"type": "string", "maxLength": MAX_NAME},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(_TURN, "The bot's answer: this turn's messages."),
                        **_TOKEN_ERRORS,
                        "409": _err("Another message was handled at the same moment; send again."),
                        "422": _err(
                            "The Idempotency-Key was used before with a different message; use a new key."
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/conversations/{conversation_id}/events": {
                "get": {
                    "summary": "Live events (server-sent events)",
                    "description": (
                        "text/event-stream. Each event has `event:` message | status | probe and "
                        '`data:` JSON such as {"type": "message", "message": {...}}. Comment lines '
                        "keep the connection alive. Agent replies and probe progress arrive here."
                    ),
                    "parameters": [_CONV_ID],
                    "security": [{"conversationToken": []}],
                    "responses": {
                        "200": {
                            "description": "An endless event stream.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        **_TOKEN_ERRORS,
                        "429": _COMMON["429"],
                    },
                }
            },
            "/api/agent/conversations/{conversation_id}/claim": {
                "post": {
                    "summary": "An agent takes over the conversation (status becomes with_agent)",
                    "parameters": [_CONV_ID],
                    "security": [{"agentKey": []}],
                    "requestBody": _agent_body({}, []),
                    "responses": {
                        "200": _json(
                            {"type": "object"},
                            "Claimed; `email` is the contact address the customer gave, or null.",
                        ),
                        **_AGENT_ERRORS,
                        "400": _COMMON["400"],
                        "413": _COMMON["413"],
                    },
                }
            },
            "/api/agent/conversations/{conversation_id}/messages": {
                "post": {
                    "summary": "An agent's reply; the customer sees it live",
                    "parameters": [_CONV_ID],
                    "security": [{"agentKey": []}],
                    "requestBody": _agent_body(
                        {"text": {"type": "string", "maxLength": MAX_AGENT_TEXT}}, ["text"]
                    ),
                    "responses": {
                        "201": _json({"type": "object"}, "The message as the customer sees it."),
                        **_AGENT_ERRORS,
                        "400": _COMMON["400"],
                        "413": _COMMON["413"],
                    },
                }
            },
            "/api/agent/conversations/{conversation_id}/handback": {
                "post": {
                    "summary": (
                        "Give the conversation back to the bot: at `step` when given, else at the last "
                        "question the customer was on before the hand-over"
                    ),
                    "parameters": [_CONV_ID],
                    "security": [{"agentKey": []}],
                    "requestBody": _agent_body({"step": {"type": "string", "maxLength": MAX_NAME}}, []),
                    "responses": {
                        "200": _json(_TURN, "The bot's turn after taking over again."),
                        **_AGENT_ERRORS,
                        "400": _COMMON["400"],
                        "413": _COMMON["413"],
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health: 200 when the database answers, else 503; `rate_limits` says whether "
                    "they are shared through Redis or counted in this process",
                    "responses": {
                        "200": _json(
                            {"type": "object"},
                            "Healthy. `office_hours` shows SUPPORTBOT_OFFICE_HOURS (hours, timezone, "
                            "open_now, next_open, reply_minutes) or null when unset.",
                        ),
                        "503": _err("The database did not answer."),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "Text exposition format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
                }
            },
            "/widget.js": {
                "get": {
                    "summary": "The embeddable widget script",
                    "responses": {
                        "200": {
                            "description": "JavaScript.",
                            "content": {"text/javascript": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }
