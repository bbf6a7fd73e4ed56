"""Guessing the admin token or the agent API key: back-off per address and for everyone; Secure cookies."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.web.auththrottle import AuthThrottle, Backoff
from tests.support.admin import ADMIN_TOKEN, admin_settings
from tests.support.web import build_app, live_server

AGENT_KEY = "agent-key-for-tests-0123456789abcdef"
CLAIM = "/api/agent/conversations/c_nobody/claim"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[str]:
    # The test client is the trusted proxy, so X-Forwarded-For chooses the "address" of each request.
    settings = admin_settings(
        tmp_path, agent_api_key=AGENT_KEY, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),)
    )
    async with live_server(await build_app(settings)) as url:
        yield url


def _from(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


async def test_wrong_admin_tokens_make_one_address_wait(site: str) -> None:
    async with httpx.AsyncClient(base_url=site) as client:
        for _ in range(5):  # a few typos are free
            wrong = await client.post("/admin/login", data={"token": "guess"}, headers=_from("203.0.113.5"))
            assert wrong.status_code == 401
        wrong = await client.post("/admin/login", data={"token": "guess"}, headers=_from("203.0.113.5"))
        assert wrong.status_code == 401  # the sixth is checked, and starts the wait
        # While it waits, not even the right token is looked at: guessing can't go faster than the wait.
        held = await client.post("/admin/login", data={"token": ADMIN_TOKEN}, headers=_from("203.0.113.5"))
        assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
        assert "Too many wrong tokens" in held.text
        # The bearer form of the same token is throttled by the same count.
        bearer = await client.get("/admin/stats.json", headers=_from("203.0.113.5", Authorization="Bearer x"))
        assert bearer.status_code == 429 and "Retry-After" in bearer.headers
        # Another address signs in as usual.
        ok = await client.post("/admin/login", data={"token": ADMIN_TOKEN}, headers=_from("198.51.100.7"))
        assert ok.status_code == 303


async def test_wrong_admin_bearers_and_agent_keys_make_one_address_wait(site: str) -> None:
    async with httpx.AsyncClient(base_url=site) as client:
        answers = [
            (
                await client.get("/admin/stats.json", headers=_from("203.0.113.6", Authorization="Bearer no"))
            ).status_code
            for _ in range(8)
        ]
        assert answers[:6] == [401] * 6 and answers[6:] == [429, 429]
        agent = [
            (
                await client.post(
                    CLAIM, json={"agent": "Sam"}, headers=_from("203.0.113.8", Authorization="Bearer no")
                )
            ).status_code
            for _ in range(8)
        ]
        assert agent[:6] == [401] * 6 and agent[6:] == [429, 429]
        right = await client.post(
            CLAIM, json={"agent": "Sam"}, headers=_from("203.0.113.8", Authorization=f"Bearer {AGENT_KEY}")
        )
        assert right.status_code == 429
        # No key at all is not a guess, and other addresses are not held.
        assert (
            await client.post(CLAIM, json={"agent": "Sam"}, headers=_from("203.0.113.9"))
        ).status_code == 401
        fine = await client.post(
            CLAIM, json={"agent": "Sam"}, headers=_from("198.51.100.8", Authorization=f"Bearer {AGENT_KEY}")
        )
        assert fine.status_code == 404  # past the key check: there is no such conversation


async def test_the_admin_cookie_is_secure_when_a_trusted_proxy_says_https(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    async with live_server(await build_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        over_tls = await client.post(
            "/admin/login", data={"token": ADMIN_TOKEN}, headers={"X-Forwarded-Proto": "https"}
        )
        plain = await client.post("/admin/login", data={"token": ADMIN_TOKEN})
    assert "secure" in [p.strip().lower() for p in over_tls.headers["set-cookie"].split(";")]
    assert "secure" not in [p.strip().lower() for p in plain.headers["set-cookie"].split(";")]


async def test_an_untrusted_peer_cannot_claim_https(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)  # no trusted proxies: the header is the client's own word
    async with live_server(await build_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/admin/login", data={"token": ADMIN_TOKEN}, headers={"X-Forwarded-Proto": "https"}
        )
    assert response.status_code == 303
    assert "secure" not in [p.strip().lower() for p in response.headers["set-cookie"].split(";")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_wait_doubles_resets_on_success_and_is_forgotten() -> None:
    clock = Clock()
    throttle = AuthThrottle(Backoff(free=2, first_wait=1, max_wait=8, forget_after=600), clock=clock)
    waits = []
    for _ in range(7):
        throttle.failed("a")
        waits.append(throttle.wait("a"))
    assert waits == [0, 0, 1, 2, 4, 8, 8]
    clock.now += 8
    assert throttle.wait("a") == 0
    throttle.succeeded("a")
    throttle.failed("a")
    assert throttle.wait("a") == 0  # counting starts again after a right guess
    for _ in range(3):
        throttle.failed("b")
    clock.now += 601
    throttle.failed("b")
    assert throttle.wait("b") == 0  # quiet for long enough: a fresh start


def test_rotating_addresses_meets_the_global_budget_but_known_admins_get_in() -> None:
    clock = Clock()
    throttle = AuthThrottle(Backoff(global_burst=10, global_per_second=0.5), clock=clock)
    throttle.succeeded("admin")
    for n in range(10):
        assert throttle.wait(f"10.0.0.{n}") == 0
        throttle.failed(f"10.0.0.{n}")
    assert throttle.wait("10.0.1.1") == pytest.approx(2.0)  # a fresh address waits for the bucket
    assert throttle.wait("admin") == 0  # who signed in lately is not locked out by the flood
    clock.now += 2
    assert throttle.wait("10.0.1.1") == 0
