"""Fixtures for the probe tests: `make_world` and `world`, a healthy domain on fake DNS and SMTP servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.dns_server import FakeDNS, fake_dns
from tests.fakes.smtp_servers import SMTPServer, TestPKI, pki, scripted_smtp, smtp_server
from tests.support.probes import DOMAIN, World, healthy_zones

__all__ = ["fake_dns", "pki", "scripted_smtp", "smtp_server"]


@pytest.fixture
def make_world(
    fake_dns: Callable[..., FakeDNS], smtp_server: Callable[..., SMTPServer], pki: TestPKI
) -> Callable[..., World]:
    """make_world(cert="good", zones={...extra or replaced nodes}, size=..., submission_auth=True, **dns options)."""

    def make(
        cert: str = "good",
        zones: dict[str, dict[str, Any]] | None = None,
        size: int = 50 * 1024 * 1024,
        submission_auth: bool = True,
        servers: dict[int, Any] | None = None,
        **dns_options: Any,
    ) -> World:
        names = (f"mail.{DOMAIN}", f"mx.{DOMAIN}")
        dns = fake_dns({**healthy_zones(), **(zones or {})}, **dns_options)
        chosen = dict(servers or {})
        if 25 not in chosen:
            chosen[25] = smtp_server(tls=pki.context("good", names), auth=False)
        if 465 not in chosen:
            chosen[465] = smtp_server(
                tls=pki.context(cert, names), implicit_tls=True, auth=submission_auth, size=size
            )
        if 587 not in chosen:
            chosen[587] = smtp_server(tls=pki.context(cert, names), auth=submission_auth, size=size)
        return World(dns=dns, pki=pki, servers=chosen)

    return make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
