"""Contact e-mail, single-use resume tickets and signed inbound e-mail, through the HTTP API."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from starlette.applications import Starlette

from bot.continuity.service import Continuity
from tests.support.web import AGENT_KEY, client, start

SECRET = "inbound-secret-for-tests"


async def test_contact_is_validated_and_never_a_secret(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    async with client(await make_app()) as c:
        cid, auth, _ = await start(c)
        url = f"/api/conversations/{cid}/contact"
        for bad in ("pat", "pat@localhost", "a b@example.com", "pat@@example.com"):
            r = await c.post(url, json={"email": bad}, headers=auth)
            assert r.status_code == 400 and "you@example.com" in r.json()["message"], bad
        r = await c.post(url, json={"email": "ghp_" + "a1B2c3D4e5" * 4 + "@example.com"}, headers=auth)
        assert r.status_code == 400
        assert (await c.post(url, json={"email": "pat@example.com"})).status_code == 401
        r = await c.post(url, json={"email": " Pat@Example.COM "}, headers=auth)
        assert r.status_code == 200 and r.json()["email"] == "Pat@example.com"


async def test_a_ticket_opens_its_conversation_once(make_app: Callable[..., Awaitable[Starlette]]) -> None:
    app = await make_app()
    async with client(app) as c:
        cid, _, _ = await start(c)
        continuity: Continuity = app.state.web.continuity
        ticket = await continuity.issue_ticket(cid)
        r = await c.post("/api/conversations/resume", json={"ticket": ticket})
        assert r.status_code == 200 and r.json()["conversation"] == cid
        token = r.json()["token"]
        # The new token works for this conversation only; the ticket is spent.
        assert (
            await c.get(f"/api/conversations/{cid}", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        other, _, _ = await start(c)
        r = await c.get(f"/api/conversations/{other}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404
        again = await c.post("/api/conversations/resume", json={"ticket": ticket})
        assert again.status_code == 404 and "already used" in again.json()["message"]


async def test_inbound_email_must_be_signed_addressed_and_from_the_customer(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    app = await make_app(inbound_secret=SECRET, reply_address="support@bot.test")
    async with client(app) as c:
        cid, auth, _ = await start(c)
        await c.post(f"/api/conversations/{cid}/contact", json={"email": "pat@example.com"}, headers=auth)
        continuity: Continuity = app.state.web.continuity
        to = continuity.reply_to(cid)
        assert to is not None and to.startswith(f"support+{cid}.")

        def mailgun(**fields: str) -> dict[str, str]:
            stamp, token = str(int(time.time())), fields.pop("token", "tok-1")
            signature = hmac.new(SECRET.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
            return {"timestamp": stamp, "token": token, "signature": signature, **fields}

        reply = "It still fails.\n\nOn Tue, Sam wrote:\n> Try again now"
        fields = mailgun(sender="Pat <pat@example.com>", recipient=to, **{"body-plain": reply})
        unsigned = {k: v for k, v in fields.items() if k != "signature"}
        assert (await c.post("/api/inbound/email", data=unsigned)).status_code == 401
        forged = mailgun(sender="eve@example.com", recipient=to, **{"body-plain": "hi"}, token="tok-2")
        assert (await c.post("/api/inbound/email", data=forged)).status_code == 400
        wrong_tag = mailgun(
            sender="pat@example.com",
            recipient=f"support+{cid}.0000@bot.test",
            **{"body-plain": "x"},
            token="t3",
        )
        assert (await c.post("/api/inbound/email", data=wrong_tag)).status_code == 400

        r = await c.post("/api/inbound/email", data=fields)
        assert r.status_code == 200 and r.json() == {"status": "added", "conversation": cid}
        assert (await c.post("/api/inbound/email", data=fields)).json()["status"] == "duplicate"
        texts = [
            m["text"] for m in (await c.get(f"/api/conversations/{cid}", headers=auth)).json()["messages"]
        ]
        assert "It still fails." in texts and not any("Try again now" in t for t in texts)

        # Our own header over the raw body (SendGrid/Postmark behind a relay), JSON shape.
        body = orjson.dumps({"From": "pat@example.com", "To": to, "TextBody": "Thanks!"})
        sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Supportbot-Signature": sig}
        assert (await c.post("/api/inbound/email", content=body, headers=headers)).status_code == 200
        headers["X-Supportbot-Signature"] = "sha256=" + "0" * 64
        assert (await c.post("/api/inbound/email", content=body, headers=headers)).status_code == 401


async def test_healthz_is_not_ready_without_flows_and_names_the_variable(
    make_app: Callable[..., Awaitable[Starlette]], tmp_path: Path
) -> None:
    empty = tmp_path / "no-flows"
    empty.mkdir()
    async with client(await make_app(flows_dir=empty)) as c:
        r = await c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["status"] == "not_ready" and "SUPPORTBOT_FLOWS" in r.json()["reason"]


async def test_admin_pages_and_the_agent_claim_show_the_contact_email(
    make_app: Callable[..., Awaitable[Starlette]],
) -> None:
    admin = {"Authorization": "Bearer admin-token-for-contact"}
    async with client(await make_app(admin_token="admin-token-for-contact")) as c:
        cid, auth, _ = await start(c)
        await c.post(f"/api/conversations/{cid}/messages", json={"choice": "human"}, headers=auth)
        page = await c.get(f"/admin/conversations/{cid}", headers=admin)
        assert "Contact e-mail" in page.text and "not given" in page.text
        r = await c.post(f"/api/conversations/{cid}/contact", json={"email": "pat@example.com"}, headers=auth)
        assert r.status_code == 200
        page = await c.get(f"/admin/conversations/{cid}", headers=admin)
        assert 'href="mailto:pat%40example.com"' in page.text and ">pat@example.com</a>" in page.text
        listing = await c.get("/admin/conversations", headers=admin)
        assert "<td>pat@example.com</td>" in listing.text
        claimed = await c.post(
            f"/api/agent/conversations/{cid}/claim",
            json={"agent": "Sam"},
            headers={"Authorization": f"Bearer {AGENT_KEY}"},
        )
        assert claimed.status_code == 200 and claimed.json()["email"] == "pat@example.com"
