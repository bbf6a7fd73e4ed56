"""`supportbot serve`'s own log lines: the access log hides secrets in request lines and stays intact."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.serving import serve

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


async def test_the_access_log_hides_secrets_in_the_request_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SUPPORTBOT_FLOWS": str(ROOT / "flows"),
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",
        "SUPPORTBOT_ACCESS_LOG": "1",
    }
    async with serve(env) as served, httpx.AsyncClient(base_url=served.url) as client:
        # A customer pastes a password into a link, and a token into a path.
        assert (await client.get("/api/conversations/c_x?password=hunter2abc9")).status_code == 401
        assert (await client.get("/xoxb-123456789012-abcdefghij")).status_code == 404
        started = await client.post("/api/conversations", json={})
        assert started.status_code == 201
    log = served.output.decode()
    assert "hunter2abc9" not in log and "xoxb-123456789012" not in log, log
    # The lines are still whole access-log lines (uvicorn's formatter got the arguments it expects).
    assert '"GET /api/conversations/c_x?password=[redacted] HTTP/1.1" 401' in log, log
    assert '"GET /[redacted] HTTP/1.1" 404' in log, log
    assert '"POST /api/conversations HTTP/1.1" 201' in log, log
    assert "Logging error" not in log and "Traceback" not in log, log


async def test_no_access_log_unless_asked_for(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SUPPORTBOT_FLOWS": str(ROOT / "flows"),
        "SUPPORTBOT_NAMESERVERS": "127.0.0.1:9",
    }
    env.pop("SUPPORTBOT_ACCESS_LOG", None)
    async with serve(env) as served, httpx.AsyncClient(base_url=served.url) as client:
        assert (await client.post("/api/conversations", json={})).status_code == 201
    log = served.output.decode()
    assert "Shutting down" in log and "POST /api/conversations" not in log, log  # captured, and quiet
