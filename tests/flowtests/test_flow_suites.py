"""The conversation tests in flows/tests/, one pytest item per case; and what `flows test` says about gaps."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine.registry import FlowRegistry
from bot.flowtests import conversations as testing
from tests.support.flows import REPO

FLOWS = REPO / "flows"
CASES = testing.iter_cases(testing.test_files_for([FLOWS]))


@pytest.fixture(scope="module")
def registry() -> FlowRegistry:
    return FlowRegistry.load_dir(FLOWS)


@pytest.mark.parametrize(("path", "flow_id", "case"), CASES, ids=[f"{p.stem}: {c.name}" for p, _, c in CASES])
async def test_case(registry: FlowRegistry, path: Path, flow_id: str, case: testing.CaseSpec) -> None:
    result = await testing.run_case(registry, path, flow_id, case)
    assert result.failures == []


def test_the_shipped_suites_cover_every_choice_condition_and_outcome(registry: FlowRegistry) -> None:
    report = testing.run_tests(registry, testing.test_files_for([FLOWS]))
    for coverage in report.coverage.values():
        assert coverage.missed_edges() == []
        assert all(seen == total for seen, total in coverage.by_kind().values()), coverage.by_kind()


def _one_case_suite(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(
        textwrap.dedent(
            """
            flow: cant-send-email
            cases:
              - name: password only
                turns:
                  - step: ask_symptom
                  - user: password
                    step: ask_fixed_acount
                  - pick: "no"
                    step: ask_fixed_auth
                  - pick: "yes"
                    status: resolved
            """
        )
    )
    return path


def test_a_misspelt_step_in_a_test_gets_a_suggestion(registry: FlowRegistry, tmp_path: Path) -> None:
    report = testing.run_tests(registry, [_one_case_suite(tmp_path)])
    [case] = report.cases
    assert case.failures == [
        "turn 2: expected step `ask_fixed_acount`, reached `ask_fixed_account`; the flow has no step "
        "`ask_fixed_acount`: did you mean `ask_fixed_account`?"
    ]


def test_flows_test_prints_the_way_to_each_step_never_reached_and_fails_under_the_threshold(
    tmp_path: Path,
) -> None:
    suite = _one_case_suite(tmp_path)
    suite.write_text(suite.read_text().replace("ask_fixed_acount", "ask_fixed_account"))
    runner = CliRunner()
    result = runner.invoke(main, ["flows", "test", "--flows", str(FLOWS), str(suite)])
    assert result.exit_code == 0, result.output  # no threshold: coverage is information
    lines = result.stdout.splitlines()
    assert lines[0] == "PASS  cant-send-email: password only"
    assert lines[1].startswith("coverage cant-send-email@") and ": choices 3/" in lines[1]
    assert lines[2].startswith("  steps never reached: say_go_through_all, ask_domain_for_ports, ")
    assert "    say_go_through_all: welcome -> ask_symptom [pick other] -> say_go_through_all" in lines
    assert (
        "    fix_size_too_big: welcome -> ask_symptom [pick too_big] "
        "-> ask_message_size [type a valid number] -> size_branch [if message_mb > max_message_mb] "
        "-> fix_size_too_big"
    ) in lines
    assert "  never taken: ask_symptom --choice:auth_required--> fix_authentication" in lines
    assert not any(
        line.startswith("  never taken: ") and line.endswith("-> fix_size_too_big") for line in lines
    )
    assert lines[-1] == "1 passed, 0 failed"

    steps_only = runner.invoke(
        main, ["flows", "test", "--flows", str(FLOWS), "--min-coverage", "10", str(suite)]
    )
    assert steps_only.exit_code == 1
    assert "  choice/branch coverage is under 10%" in steps_only.stderr
    assert "step coverage is under" not in steps_only.stderr
    relaxed = runner.invoke(
        main,
        [
            "flows",
            "test",
            "--flows",
            str(FLOWS),
            "--min-coverage",
            "5",
            "--min-branch-coverage",
            "1",
            str(suite),
        ],
    )
    assert relaxed.exit_code == 0, relaxed.output
