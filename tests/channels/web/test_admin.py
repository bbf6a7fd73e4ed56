"""The admin pages over HTTP: refused without the token, signed session, CSRF, escaping, filters, outbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.web.admin.session import COOKIE, Signer
from tests.support.admin import ADMIN_TOKEN, admin_settings, seed, sign_in
from tests.support.web import build_app, live_server

PAGES = ["/admin/", "/admin/missed", "/admin/conversations", "/admin/outbox", "/admin/stats.json"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    settings = admin_settings(tmp_path)
    hostile = await seed(settings, n=24)
    async with live_server(await build_app(settings)) as url:
        yield url, hostile


async def test_refused_without_the_token(site: tuple[str, str]) -> None:
    url, hostile = site
    async with httpx.AsyncClient(base_url=url) as client:
        bare = await client.get("/admin")
        assert bare.status_code in (307, 308) and bare.headers["location"].endswith("/admin/")
        for path in [*PAGES, f"/admin/conversations/{hostile}"]:
            response = await client.get(path)
            assert response.status_code == 401, path
            assert "Sign in" in response.text
            assert "Transcript" not in response.text and "&lt;script" not in response.text
        bad = await client.get("/admin/stats.json", headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401
        forged = await client.get(
            "/admin/", headers={"Cookie": f"{COOKIE}={Signer('another token').issue()[0]}"}
        )
        assert forged.status_code == 401
        wrong = await client.post("/admin/login", data={"token": "guess", "next": "/admin"})
        assert wrong.status_code == 401 and "not right" in wrong.text
        assert "set-cookie" not in wrong.headers
        post = await client.post("/admin/outbox/retry", data={"csrf": "x"})
        assert post.status_code == 403
        ok = await client.get("/admin/stats.json", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert ok.status_code == 200 and ok.json()["conversations"] == 25


async def test_pages_escape_customer_text(site: tuple[str, str]) -> None:
    url, hostile = site
    async with httpx.AsyncClient(base_url=url) as client:
        await sign_in(client)
        pages = [
            "/admin/",
            "/admin/conversations",
            "/admin/conversations?domain=nohost-evil.example",
            f"/admin/conversations/{hostile}",
            "/admin/outbox",
            "/admin/outbox?status=dead",
        ]
        for path in pages:
            response = await client.get(path)
            assert response.status_code == 200, path
            # The admin pages carry no script at all, so any "<script" would be customer text let through.
            assert "<script" not in response.text.lower(), path
            assert "script-src 'self'" in response.headers["content-security-policy"]
        transcript = (await client.get(f"/admin/conversations/{hostile}")).text
        assert "&lt;script&gt;alert(&#39;admin&#39;)&lt;/script&gt;" in transcript
        assert "mail_host" in transcript and "no mail host" in transcript  # the probe result
        overview = (await client.get("/admin/")).text
        assert "The customer asked for a person at step ask_fixed_server." in overview
        outbox_page = (await client.get("/admin/outbox?status=dead")).text
        assert "connection refused &lt;script&gt;" in outbox_page


async def test_filters(site: tuple[str, str]) -> None:
    url, hostile = site
    async with httpx.AsyncClient(base_url=url) as client:
        await sign_in(client)
        stats = (await client.get("/admin/stats.json")).json()
        listed = (await client.get("/admin/conversations?status=escalated")).text
        n = stats["status"]["escalated"]
        assert n > 1 and f"{n} conversations" in listed
        assert 'class="badge resolved"' not in listed
        one = (await client.get("/admin/conversations?domain=nohost-evil.example&flow=cant-send-email")).text
        assert "1 conversation." in one and hostile in one
        none = (await client.get("/admin/conversations?since=2999-01-01")).text
        assert "No conversations match." in none
        today = (await client.get("/admin/conversations?until=2000-01-01")).text
        assert "0 conversations" in today
        bad = await client.get("/admin/conversations?since=yesterday-ish")
        assert bad.status_code == 400 and "is not a date" in bad.text
        missing = await client.get("/admin/conversations/c_nope")
        assert missing.status_code == 404


async def test_retry_needs_the_session_csrf_token(site: tuple[str, str]) -> None:
    url, _hostile = site
    async with httpx.AsyncClient(base_url=url) as client:
        csrf = await sign_in(client)
        page = (await client.get("/admin/outbox?status=dead")).text
        job = re.search(r'name="id" value="(\d+)"', page)
        assert job is not None
        refused = await client.post("/admin/outbox/retry", data={"id": job.group(1)})
        assert refused.status_code == 403
        forged = await client.post("/admin/outbox/retry", data={"id": job.group(1), "csrf": "0" * len(csrf)})
        assert forged.status_code == 403
        elsewhere = await client.post(
            "/admin/outbox/retry",
            data={"id": job.group(1), "csrf": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        done = await client.post("/admin/outbox/retry", data={"id": job.group(1), "csrf": csrf})
        assert done.status_code == 303 and done.headers["location"] == "/admin/outbox?retried=1"
        again = await client.post("/admin/outbox/retry", data={"id": job.group(1), "csrf": csrf})
        assert again.headers["location"] == "/admin/outbox?retried=0"  # no longer dead
        out = await client.post("/admin/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert (await client.get("/admin/")).status_code == 401


async def test_sign_in_redirects_only_inside_admin(site: tuple[str, str]) -> None:
    url, _ = site
    async with httpx.AsyncClient(base_url=url) as client:
        for target in ("https://evil.example/", "//evil.example/admin", "/api/conversations"):
            response = await client.post("/admin/login", data={"token": ADMIN_TOKEN, "next": target})
            assert response.headers["location"] == "/admin/", target


async def test_off_without_a_configured_token(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, admin_token=None)
    async with live_server(await build_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/admin/")
        assert response.status_code == 404
        assert "SUPPORTBOT_ADMIN_TOKEN" in response.text
        login = await client.post("/admin/login", data={"token": ""})
        assert login.status_code == 404


def test_session_cookie_expires_and_resists_tampering() -> None:
    signer = Signer(ADMIN_TOKEN)
    cookie, session = signer.issue(now=1000.0)
    assert signer.read(cookie, now=1001.0) == session
    assert signer.read(cookie, now=session.expires + 1) is None
    payload, signature = cookie.split(".")
    assert signer.read(payload + "." + "0" * len(signature), now=1001.0) is None
    assert signer.read("garbage", now=1001.0) is None
    assert Signer("other").read(cookie, now=1001.0) is None
    assert signer.token_ok(ADMIN_TOKEN) and not signer.token_ok(ADMIN_TOKEN[:-1])


async def test_out_of_range_numbers_in_the_query_are_400s_that_say_so(site: tuple[str, str]) -> None:
    url, _ = site
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        for query in ("page=1" + "0" * 30, "page=0", "page=-1", "page=abc", "page=" + "9" * 5000, "page=1e3"):
            response = await client.get(f"/admin/conversations?{query}")
            assert response.status_code == 400, query
            assert "must be a whole number from 1 to" in response.text, query
        for query in ("top=" + "9" * 40, "top=x"):
            response = await client.get(f"/admin/missed?{query}")
            assert response.status_code == 400 and "top=" in response.text, query
        assert (await client.get("/admin/conversations?page=2")).status_code == 200
        assert (
            await client.get("/admin/conversations?page=999999")
        ).status_code == 200  # past the end: empty
