"""Fixtures for the web channel tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from bot.channels.web.ratelimit import RateLimits
from bot.engine.probing import FixtureProbes
from tests.support.web import build_app, web_settings


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Awaitable[Starlette]]:
    async def make(
        limits: RateLimits | None = None, probes: FixtureProbes | None = None, **changes: Any
    ) -> Starlette:
        return await build_app(web_settings(tmp_path, **changes), limits, probes)

    return make
