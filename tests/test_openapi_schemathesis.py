"""Schemathesis against /openapi.json, in process over ASGI: no 5xx, and every answer is the documented one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.channels.web.ratelimit import Rate, RateLimits
from bot.engine.probing import OfflineProbes
from bot.settings import Settings

FLOWS = Path(__file__).resolve().parents[1] / "flows"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Every generated request comes from one test address; the limits themselves are tested elsewhere.
OPEN_LIMITS = RateLimits(
    ip_requests=Rate(10_000, 10_000),
    ip_starts=Rate(10_000, 10_000),
    conversation_messages=Rate(10_000, 10_000),
)


def build(tmp: Path) -> Any:
    from bot.channels.web.wiring import build_app

    async def make() -> Any:
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'schemathesis.db'}",
            flows_dir=FLOWS,
            agent_api_key="agent-key-for-schemathesis",
        )
        # Schemathesis serves the app from its own thread and loop; the SQLite driver's one connection
        # may be used from there (it opens with check_same_thread off), and nothing else is pooled.
        return await build_app(settings, limits=OPEN_LIMITS, probes=OfflineProbes())

    return asyncio.run(make())


# The schema is read from the running app, which lives in a temporary folder, so the operations are
# walked inside the test: one subtest per operation, each a Hypothesis test of its own. (Schemathesis'
# `from_fixture` did this for us, but it rewrites a private pytest attribute that pytest 9.2 removed.)
def test_api_conforms_to_its_openapi_document(tmp_path: Path, subtests: pytest.Subtests) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", build(tmp_path))
    operations = [api[path][method] for path in api for method in api[path]]
    assert operations, "the OpenAPI document lists no operation"
    for operation in operations:
        with subtests.test(msg=operation.label):

            @given(case=operation.as_strategy())
            @settings(
                max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
            )
            def conforms(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(checks=CHECKS)

            conforms()
