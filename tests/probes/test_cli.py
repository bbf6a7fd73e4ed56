"""`supportbot probe`: the JSON report, a readable report, and non-zero only when it cannot run."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.support.probes import DOMAIN, World

CHECK_IDS = [
    "mx",
    "mail_host",
    "smtp_25",
    "smtp_465",
    "smtp_587",
    "tls",
    "spf",
    "dmarc",
    "dkim",
    "ip_blocklist",
    "domain_blocklist",
]


def test_json_report(world: World) -> None:
    result = CliRunner().invoke(main, ["probe", DOMAIN, "--ip", "1.2.3.4", "--json"], env=world.env())
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["domain"] == report["ascii"] == DOMAIN and isinstance(report["elapsed_ms"], int)
    assert [c["id"] for c in report["checks"]] == CHECK_IDS
    for check in report["checks"]:
        assert set(check) == {"id", "status", "summary", "details"}
        assert check["status"] in ("pass", "warn", "fail", "unknown", "skipped")
    by_id = {c["id"]: c["status"] for c in report["checks"]}
    assert by_id["ip_blocklist"] == "fail" and by_id["smtp_587"] == "pass"


def test_text_report_exits_zero_whatever_the_findings(make_world: Callable[..., World]) -> None:
    world = make_world(cert="expired")
    result = CliRunner().invoke(main, ["probe", DOMAIN], env=world.env())
    assert result.exit_code == 0
    assert "[FAIL] tls" in result.stdout and "Mail servers" in result.stdout


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["localhost"], "local or reserved"),
        (["10.0.0.1"], "IP address"),
        (["example:25"], "port"),
        (["example.com", "--ip", "127.0.0.1"], "loopback"),
    ],
)
def test_refused_input_exits_non_zero_with_a_clear_message(world: World, argv: list[str], says: str) -> None:
    env = {**world.env(), "SUPPORTBOT_PROBE_ALLOW": ""}
    result = CliRunner().invoke(main, ["probe", *argv], env=env)
    assert result.exit_code != 0
    assert says in result.output
    assert world.dns.queries == []  # refused before anything was asked
