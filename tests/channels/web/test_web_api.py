"""The widget and agent APIs driven in-process: happy path, auth, input checks, limits, headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from bot.channels.web.ratelimit import Rate, RateLimits
from tests.support.web import AGENT_KEY, client, start


async def test_start_reply_and_transcript(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        cid, auth, opening = await start(c)
        assert len(opening["token"]) >= 40
        assert opening["status"] == "active"
        assert opening["awaiting"]["kind"] == "choice"
        assert opening["messages"][0]["role"] == "bot"

        r = await c.post(
            f"/api/conversations/{cid}/messages", json={"choice": "cannot_connect"}, headers=auth
        )
        assert r.status_code == 200, r.text
        assert r.json()["awaiting"]["kind"] == "text"

        r = await c.post(f"/api/conversations/{cid}/messages", json={"text": "example.com"}, headers=auth)
        assert r.status_code == 200
        assert "example.com" in json.dumps(r.json())

        r = await c.get(f"/api/conversations/{cid}", headers=auth)
        assert r.status_code == 200
        texts = [m["text"] for m in r.json()["messages"]]
        assert "example.com" in texts
        assert r.headers["cache-control"] == "no-store"


async def test_typed_probe_results_are_in_the_turn(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        for body in ({"choice": "cannot_connect"}, {"text": "example.com"}):
            assert (
                await c.post(f"/api/conversations/{cid}/messages", json=body, headers=auth)
            ).status_code == 200
        r = await c.post(f"/api/conversations/{cid}/messages", json={"choice": "yes"}, headers=auth)
        probes = [m["probe"] for m in r.json()["messages"] if m["type"] == "probe"]
        assert probes and probes[0]["id"] == "smtp_25" and probes[0]["status"] == "pass"
        metrics = (await c.get("/metrics")).text
        assert 'supportbot_probes_total{status="pass"} 1.0' in metrics
        assert "supportbot_turns_total" in metrics
        assert "supportbot_turn_seconds_bucket" in metrics
        assert "supportbot_outbox_backlog" in metrics


async def test_token_is_required_and_never_opens_another_conversation(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async with client(await make_app()) as c:
        mine, my_auth, _ = await start(c)
        theirs, their_auth, _ = await start(c)

        r = await c.get(f"/api/conversations/{mine}")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")

        wrong = {"Authorization": "Bearer " + "x" * 43}
        for method, path, body in (
            ("GET", f"/api/conversations/{mine}", None),
            ("POST", f"/api/conversations/{mine}/messages", {"text": "hi"}),
            ("GET", f"/api/conversations/{mine}/events", None),
        ):
            r = await c.request(method, path, json=body, headers=wrong)
            assert r.status_code == 404, (path, r.text)

        # My token on their id: the same 404 as an unknown id, and nothing of theirs in the body.
        for target in (theirs, "c_does_not_exist", "bad%20id", "x" * 500):
            r = await c.get(f"/api/conversations/{target}", headers=my_auth)
            assert r.status_code == 404
            assert r.json() == {"error": "not_found", "message": "No conversation with that id and token."}
        r = await c.post(f"/api/conversations/{theirs}/messages", json={"text": "hi"}, headers=my_auth)
        assert r.status_code == 404
        assert (await c.get(f"/api/conversations/{theirs}", headers=their_auth)).status_code == 200


@pytest.mark.parametrize(
    ("body", "headers", "status", "says"),
    [
        (b"{not json", {}, 400, "not valid JSON"),
        (b'{"text": "hi"', {}, 400, "not valid JSON"),
        (b"[1, 2]", {}, 400, "must be a JSON object"),
        (b'{"text": "hi", "admin": true}', {}, 400, "Unknown field 'admin'"),
        (b'{"text": 5}', {}, 400, "must be a string"),
        (b'{"text": "a", "choice": "b"}', {}, 400, "exactly one"),
        (b"{}", {}, 400, "exactly one"),
        (b'{"text": "   "}', {}, 400, "is empty"),
        (b'{"text": "caf\xe9"}', {}, 400, "not valid UTF-8"),
        (b'{"text": "\xff\xfe"}', {}, 400, "not valid UTF-8"),
        (b'{"text": "a\\u0000b"}', {}, 400, "NUL"),
        (b'{"text": "\\ud800"}', {}, 400, "unpaired surrogate"),
        ('{"text": "' + "\U0001f600" * 10_000 + '"}', {}, 400, "10000 characters long; the limit is 2000"),
        (json.dumps({"text": "\U0001f600" * 10_000}).encode(), {}, 413, "larger than 64 KB"),
        (b'{"text": "' + b"a" * 1024 * 1024 + b'"}', {}, 413, "larger than 64 KB"),
        (b'{"text": "hi"}', {"Content-Type": "text/plain"}, 415, "application/json"),
        (b'{"text": "hi"}', {"Idempotency-Key": "x" * 201}, 400, "Idempotency-Key"),
    ],
)
async def test_hostile_bodies_get_their_documented_status(
    make_app: Callable[..., Awaitable[Starlette]],
    body: bytes | str,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        content = body.encode() if isinstance(body, str) else body
        r = await c.post(
            f"/api/conversations/{cid}/messages",
            content=content,
            headers={"Content-Type": "application/json", **auth, **headers},
        )
        assert r.status_code == status, r.text
        assert says in r.json()["message"]
        assert "Traceback" not in r.text
        # The conversation still works afterwards.
        ok = await c.post(
            f"/api/conversations/{cid}/messages", json={"choice": "cannot_connect"}, headers=auth
        )
        assert ok.status_code == 200


async def test_body_over_the_cap_is_refused_without_content_length(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(64):
            yield b"a" * 16 * 1024  # 1 MB in total, streamed with no length announced
        yield b'"}'

    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        r = await c.post(
            f"/api/conversations/{cid}/messages",
            content=chunks(),
            headers={"Content-Type": "application/json", **auth},
        )
        assert r.status_code == 413


async def test_a_flood_from_one_conversation_gets_429_and_others_are_served(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    limits = RateLimits(
        ip_requests=Rate(burst=200, per_second=10),
        ip_starts=Rate(burst=20, per_second=1),
        # A slow refill: on a busy machine the flood takes seconds, and each second must not add a 200.
        conversation_messages=Rate(burst=10, per_second=0.1),
    )
    app = await make_app(limits=limits)
    async with client(app, ip="198.51.100.7") as flood, client(app, ip="203.0.113.9") as other:
        cid, auth, _ = await start(flood)
        replies = await asyncio.gather(
            *(
                flood.post(f"/api/conversations/{cid}/messages", json={"text": "help"}, headers=auth)
                for _ in range(1000)
            )
        )
        codes = [r.status_code for r in replies]
        assert codes.count(200) <= 12
        assert codes.count(429) >= 980
        assert set(codes) <= {200, 429, 409}
        limited = next(r for r in replies if r.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1

        # Someone else, from another address, is served normally.
        other_id, other_auth, _ = await start(other)
        r = await other.post(
            f"/api/conversations/{other_id}/messages", json={"choice": "cannot_connect"}, headers=other_auth
        )
        assert r.status_code == 200
        assert "supportbot_rate_limited_total" in (await other.get("/metrics")).text


async def test_too_many_new_conversations_from_one_address(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    limits = RateLimits(ip_starts=Rate(burst=3, per_second=0.01))
    async with client(await make_app(limits=limits)) as c:
        codes = [(await c.post("/api/conversations", json={})).status_code for _ in range(5)]
        assert codes[:3] == [201, 201, 201]
        r = await c.post("/api/conversations", json={})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 1


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    import ipaddress

    async def client_ip_seen(app: Starlette, peer: str) -> str:
        async with client(app, ip=peer) as c:
            r = await c.post("/api/conversations", json={}, headers={"X-Forwarded-For": "203.0.113.50"})
            cid, auth = r.json()["conversation"], {"Authorization": f"Bearer {r.json()['token']}"}
            await c.post(
                f"/api/conversations/{cid}/messages", json={"choice": "blocked_bounce"}, headers=auth
            )
            r = await c.post(f"/api/conversations/{cid}/messages", json={"choice": "yes"}, headers=auth)
            return " ".join(m["text"] for m in r.json()["messages"])

    trusted = await make_app(trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    assert "203.0.113.50" in await client_ip_seen(trusted, "10.1.2.3")
    said = await client_ip_seen(await make_app(), "10.1.2.3")
    assert "203.0.113.50" not in said and "10.1.2.3" in said


async def test_cors_and_security_headers(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    app = await make_app(widget_origins=("https://help.example.com",))
    async with client(app) as c:
        r = await c.options(
            "/api/conversations",
            headers={
                "Origin": "https://help.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == "https://help.example.com"
        assert "Authorization" in r.headers["access-control-allow-headers"]

        r = await c.post("/api/conversations", json={}, headers={"Origin": "https://help.example.com"})
        assert r.status_code == 201
        assert r.headers["access-control-allow-origin"] == "https://help.example.com"

        r = await c.post("/api/conversations", json={}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        assert "SUPPORTBOT_WIDGET_ORIGINS" in r.json()["message"]
        assert "access-control-allow-origin" not in r.headers

        for path in ("/", "/widget/panel.html", "/healthz", "/api/conversations/x"):
            r = await c.get(path)
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'self' https://help.example.com" in csp
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"


async def test_static_files_health_and_openapi(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    app = await make_app()
    async with client(app) as c:
        r = await c.get("/widget.js")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
        panel = await c.get("/widget/panel.js")
        assert panel.status_code == 200
        for script in (r.text, panel.text):
            for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval("):
                assert sink not in script
        demo = await c.get("/")
        assert demo.status_code == 200 and 'src="/widget.js"' in demo.text
        assert "<script>" not in demo.text  # no inline script anywhere: the CSP forbids it

        r = await c.get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"

        spec = (await c.get("/openapi.json")).json()
        assert spec["openapi"].startswith("3.")
        documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
        served = {
            (route.path, method)
            for route in app.routes
            if isinstance(route, Route) and route.methods
            for method in route.methods - {"HEAD"}
        }
        # "/" is the demo page and /admin the support leads' HTML pages: neither is part of the API.
        missing = {
            entry for entry in served if entry[0] != "/" and not entry[0].startswith("/admin")
        } - documented
        assert not missing

        r = await c.get("/nothing/here")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = await c.delete("/api/conversations")
        assert r.status_code == 405


async def test_agent_api_claims_answers_and_hands_back(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        agent = {"Authorization": f"Bearer {AGENT_KEY}"}
        base = f"/api/agent/conversations/{cid}"

        assert (await c.post(f"{base}/claim", json={"agent": "Sam"})).status_code == 401
        r = await c.post(f"{base}/claim", json={"agent": "Sam"}, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await c.post(f"{base}/claim", json={"agent": "Sam", "extra": 1}, headers=agent)
        assert r.status_code == 400

        r = await c.post(f"{base}/claim", json={"agent": "Sam"}, headers=agent)
        assert r.status_code == 200 and r.json()["status"] == "with_agent"
        r = await c.post(f"{base}/messages", json={"agent": "Sam", "text": "Hi, I'm Sam."}, headers=agent)
        assert r.status_code == 201
        seen = (await c.get(f"/api/conversations/{cid}", headers=auth)).json()
        assert seen["status"] == "with_agent"
        assert any(m["role"] == "agent" and m["text"] == "Hi, I'm Sam." for m in seen["messages"])

        r = await c.post(f"{base}/handback", json={"agent": "Sam"}, headers=agent)
        assert r.status_code == 200 and r.json()["status"] == "active"


async def test_agent_api_is_off_without_a_key(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app(agent_api_key=None)) as c:
        cid, _, _ = await start(c)
        r = await c.post(
            f"/api/agent/conversations/{cid}/claim",
            json={"agent": "Sam"},
            headers={"Authorization": "Bearer anything"},
        )
        assert r.status_code == 403
        assert "SUPPORTBOT_AGENT_API_KEY" in r.json()["message"]


def test_client_ip_walks_forwarded_for_through_trusted_proxies_only() -> None:
    import ipaddress

    from bot.channels.web.clientip import client_ip

    proxies = (ipaddress.ip_network("10.0.0.0/8"),)

    def scope(peer: str, xff: str | None) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return {"client": (peer, 1234), "headers": headers}

    assert client_ip(scope("203.0.113.1", "198.51.100.9"), proxies) == "203.0.113.1"
    assert client_ip(scope("10.0.0.2", "198.51.100.9"), proxies) == "198.51.100.9"
    # A client-supplied hop left of the real one is ignored.
    assert client_ip(scope("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.7"), proxies) == "198.51.100.9"
    assert client_ip(scope("10.0.0.2", "not-an-ip"), proxies) == "10.0.0.2"
    assert client_ip(scope("10.0.0.2", "198.51.100.9"), ()) == "10.0.0.2"
    assert client_ip(scope("10.0.0.2", "[2001:db8::5]:443"), proxies) == "2001:db8::5"


async def test_an_idempotency_key_reused_for_another_message_is_a_422(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    app = await make_app()
    async with client(app) as c:
        cid, auth, _ = await start(c)
        url = f"/api/conversations/{cid}/messages"
        first = await c.post(
            url, json={"text": "my mail bounces"}, headers={**auth, "Idempotency-Key": "k-1"}
        )
        assert first.status_code == 200
        # The same request again (a client retrying): the same answer, nothing applied twice.
        again = await c.post(
            url, json={"text": "my mail bounces"}, headers={**auth, "Idempotency-Key": "k-1"}
        )
        assert again.status_code == 200 and again.json() == first.json()
        # Another message under the same key is refused, and says why, instead of being dropped.
        for other in ({"text": "it says 550 blocked"}, {"choice": "cannot_connect"}):
            reused = await c.post(url, json=other, headers={**auth, "Idempotency-Key": "k-1"})
            assert reused.status_code == 422
            assert "already used for a different message" in reused.json()["message"]
        fresh = await c.post(
            url, json={"text": "it says 550 blocked"}, headers={**auth, "Idempotency-Key": "k-2"}
        )
        assert fresh.status_code == 200
        said = [
            m["text"] for m in (await c.get(f"/api/conversations/{cid}", headers=auth)).json()["messages"]
        ]
        assert said.count("my mail bounces") == 1 and said.count("it says 550 blocked") == 1
