"""flows/README.md teaches by example: its example flow and tests must load, pass and print what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.support.flows import REPO

GUIDE = (REPO / "flows" / "README.md").read_text(encoding="utf-8")
BLOCKS: list[str] = re.findall(r"```yaml\n(.*?)```", GUIDE, re.DOTALL)


def _block(starts: str) -> str:
    [block] = [b for b in BLOCKS if b.startswith(starts)]
    return block


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    flow = _block("# yaml-language-server: $schema=flow.schema.json\nid: wrong-password\n")
    (tmp_path / "wrong-password.yaml").write_text(flow, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "wrong-password.yaml").write_text(
        _block("flow: wrong-password\n"), encoding="utf-8"
    )
    return tmp_path


def test_the_example_flow_has_no_problem_and_no_warning(folder: Path) -> None:
    result = CliRunner().invoke(main, ["flows", "check", "--strict", str(folder / "wrong-password.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 flow file(s) OK\n"


def test_the_example_tests_pass_with_full_coverage(folder: Path) -> None:
    result = CliRunner().invoke(main, ["flows", "test", "--flows", str(folder), "--min-coverage", "100"])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.stdout


def test_the_coverage_report_shown_is_what_flows_test_prints(folder: Path) -> None:
    suite = folder / "tests" / "wrong-password.yaml"
    text = suite.read_text()
    suite.write_text(text[: text.index("  - name: webmail still failing")])
    result = CliRunner().invoke(main, ["flows", "test", "--flows", str(folder)])
    shown = re.search(r"```\n(coverage wrong-password.*?)```", GUIDE, re.DOTALL)
    assert shown is not None
    assert shown.group(1) in result.stdout


def test_the_probe_fixture_example_passes_on_the_reference_flow(tmp_path: Path) -> None:
    suite = tmp_path / "probe.yaml"
    suite.write_text("flow: cant-send-email\ncases:\n" + _block("  - name: blocklisted address"))
    result = CliRunner().invoke(main, ["flows", "test", "--flows", str(REPO / "flows"), str(suite)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS  cant-send-email: blocklisted address, found by the check\n")


def test_every_lint_rule_is_in_the_guide() -> None:
    from bot.flows.lint import RULES

    for rule in RULES:
        assert f"| `{rule}`" in GUIDE
