"""/openapi.json: generated from the body models, a valid OpenAPI 3.1 document that the answers keep to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate
from starlette.applications import Starlette

from bot.channels.web import bodies
from bot.channels.web.inputs import fields_of
from bot.channels.web.openapi import OPERATIONS, document
from tests.support.web import AGENT_KEY, client, start


def test_the_document_is_valid_openapi_and_every_body_is_a_model() -> None:
    spec = document("1.2.3")
    validate(spec)  # raises, naming the first problem, when the document is not valid OpenAPI 3.1
    assert spec["info"]["version"] == "1.2.3"
    schemas = spec["components"]["schemas"]
    for name in ("Turn", "Started", "Transcript", "Message", "Probe", "Error", "CustomerMessage"):
        assert name in schemas, sorted(schemas)
    message = spec["paths"]["/api/conversations/{conversation_id}/messages"]["post"]
    body = message["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CustomerMessage"}
    # The limits the API enforces are the ones it documents: both come from the same model.
    customer = schemas["CustomerMessage"]
    assert customer["additionalProperties"] is False
    assert {k: v["maxLength"] for k, v in customer["properties"].items()} == {
        name: field.max_chars for name, field in fields_of(bodies.CustomerMessage).items()
    }
    # A field left out is not sent as null: the document must not promise a null default.
    assert "default" not in customer["properties"]["text"]


def test_every_operation_documents_its_errors_with_the_error_body() -> None:
    spec = document("0")
    for op in OPERATIONS:
        responses = spec["paths"][op.path][op.method]["responses"]
        for code, reply in responses.items():
            if int(code) >= 400:
                schema = reply["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (op.path, code)


def conforms(spec: dict[str, Any], path: str, method: str, response: httpx.Response) -> dict[str, Any]:
    """The response body, after checking it against the schema the document gives for its status."""
    documented = spec["paths"][path][method]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    data: dict[str, Any] = response.json()
    jsonschema.validate(data, {**schema, "components": spec["components"]})
    return data


async def test_answers_of_a_whole_takeover_keep_to_the_document(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with client(await make_app()) as c:
        spec = (await c.get("/openapi.json")).json()
        cid, auth, opening = await start(c)
        conforms(spec, "/api/conversations", "post", httpx.Response(201, json=opening))
        # Keys the turn object does not have stay out, rather than being sent as null.
        assert set(opening) == {"conversation", "status", "messages", "awaiting", "token"}
        assert all(set(m) == {"role", "type", "text"} for m in opening["messages"])

        turns = f"/api/conversations/{cid}/messages"
        r = await c.post(turns, json={"text": "human"}, headers=auth)
        escalated = conforms(spec, "/api/conversations/{conversation_id}/messages", "post", r)
        assert escalated["status"] == "escalated"

        agent = {"Authorization": f"Bearer {AGENT_KEY}"}
        base = f"/api/agent/conversations/{cid}"
        r = await c.post(f"{base}/claim", json={"agent": "Sam"}, headers=agent)
        claimed = conforms(spec, "/api/agent/conversations/{conversation_id}/claim", "post", r)
        assert claimed == {"conversation": cid, "status": "with_agent", "agent": "Sam", "email": None}
        r = await c.post(f"{base}/messages", json={"agent": "Sam", "text": "Hello, I'm here."}, headers=agent)
        sent = conforms(spec, "/api/agent/conversations/{conversation_id}/messages", "post", r)
        assert sent == {
            "conversation": cid,
            "message": {"role": "agent", "type": "text", "text": "Hello, I'm here.", "agent": "Sam"},
        }

        r = await c.get(f"/api/conversations/{cid}", headers=auth)
        so_far = conforms(spec, "/api/conversations/{conversation_id}", "get", r)
        assert so_far["agent"] == "Sam" and so_far["status"] == "with_agent"
        assert so_far["messages"][-1] == sent["message"]

        r = await c.post(f"{base}/handback", json={"agent": "Sam"}, headers=agent)
        back = conforms(spec, "/api/agent/conversations/{conversation_id}/handback", "post", r)
        assert back["status"] == "active" and back["awaiting"]["kind"] == "choice"

        r = await c.get(f"/api/conversations/{cid}", headers=auth)
        assert conforms(spec, "/api/conversations/{conversation_id}", "get", r)["agent"] is None
        r = await c.get("/api/conversations/c_000000000000000000000000", headers=auth)
        conforms(spec, "/api/conversations/{conversation_id}", "get", r)  # 404, as an Error body
