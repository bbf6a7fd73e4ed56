"""Helpers for the web channel tests: real uvicorn on loopback, the app with fixture probes, an in-process client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from bot.channels.web import wiring
from bot.channels.web.ratelimit import RateLimits
from bot.engine.probing import FixtureProbes, ProbeResult
from bot.settings import Settings
from tests.support.held import HeldProbes


@contextlib.asynccontextmanager
async def live_server(app: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 and an ephemeral port (or on `sock`, from `reserve()`,
    when the app must know its own address); yield its base URL."""
    sock = sock or reserve()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        proxy_headers=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
        ws="none",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def reserve() -> socket.socket:
    """A bound loopback socket on a port the OS picked, for live_server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


# --- the app under test ------------------------------------------------------------------------

FLOWS = Path(__file__).resolve().parents[2] / "flows"
AGENT_KEY = "agent-key-for-tests"
HOSTILE = "<img src=x onerror=alert(1)>"

# Deterministic probe results; the banner and a summary carry markup that must render as text.
PROBES = {
    "smtp_25": ProbeResult(
        "smtp_25",
        "pass",
        f"Your mail server answered on port 25 with {HOSTILE}",
        {"banner": f"220 mail.example.com ESMTP {HOSTILE}", "port": 25},
    ),
    "smtp_587": ProbeResult(
        "smtp_587",
        "warn",
        "Port 587 answered, but it offers no STARTTLS.",
        {"banner": "220 <script>alert(2)</script>", "starttls": False},
    ),
    "mail_host": ProbeResult(
        "mail_host", "fail", "mail.example.com does not exist in DNS.", {"txt": HOSTILE}
    ),
}


def fixture_probes() -> FixtureProbes:
    return FixtureProbes(PROBES)


def held_probes() -> HeldProbes:
    """The fixture results, each check held until the test sets `release`."""
    return HeldProbes(PROBES)


def web_settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.db'}",
        flows_dir=FLOWS,
        agent_api_key=AGENT_KEY,
    )
    return dataclasses.replace(base, **changes)


async def build_app(
    settings: Settings, limits: RateLimits | None = None, probes: FixtureProbes | None = None
) -> Starlette:
    """The real app (bootstrap's service on SQLite in tmp_path) with fixture probes (or `probes`)."""
    return await wiring.build_app(settings, limits=limits, probes=probes or fixture_probes())


def chromium_path() -> str | None:
    path = os.environ.get("SUPPORTBOT_CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).exists() else None


# --- the API in-process ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def client(app: Starlette, ip: str = "198.51.100.1") -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the app in-process, with the app's lifespan running around it."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bot.test") as c,
    ):
        yield c


async def start(c: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, Any]]:
    r = await c.post("/api/conversations", json={"flow": "cant-send-email"})
    assert r.status_code == 201, r.text
    data = r.json()
    return data["conversation"], {"Authorization": f"Bearer {data['token']}"}, data
