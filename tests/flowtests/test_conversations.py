"""The conversation tests beside the flows: the shipped ones pass with full coverage, and failures are told."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine.compile import load_file
from bot.engine.registry import FlowRegistry
from bot.errors import FlowError
from bot.flowtests import conversations as testing
from bot.flowtests.conversations import load_suite, run_tests_async
from tests.support.flows import REPO

FLOWS = REPO / "flows"


@pytest.fixture
def registry() -> FlowRegistry:
    return FlowRegistry.load_dir(FLOWS)


async def test_shipped_conversation_tests_pass_and_cover_every_step_and_edge(registry: FlowRegistry) -> None:
    # test_files_for is used through its module: imported by name, pytest would collect it as a test.
    report = await run_tests_async(registry, testing.test_files_for([FLOWS]))
    failed = {case.name: case.failures for case in report.cases if not case.passed}
    assert failed == {}
    assert len(report.cases) >= 40
    coverage = report.coverage["cant-send-email"]
    assert coverage.steps - coverage.seen_steps == set()
    assert coverage.edges - coverage.seen_edges == set()
    assert coverage.step_ratio == 1.0 and coverage.edge_ratio == 1.0


def test_flows_test_command_prints_cases_and_coverage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "test", "--min-coverage", "100"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # cases, then coverage, then the understanding evaluation of flows/tests/*.nlu.yaml, then the tally
    at = next(i for i, line in enumerate(lines) if line.startswith("coverage "))
    assert at > 0 and all(line.startswith("PASS  cant-send-email: ") for line in lines[:at])
    steps = len(load_file(REPO / "flows" / "cant-send-email.yaml").steps)
    assert lines[at].startswith(f"coverage cant-send-email@1: steps {steps}/{steps} (100%), edges ")
    assert "(100%)" in lines[at].split("edges")[1]
    assert lines[at + 1].startswith("understanding cant-send-email@1")
    assert lines[-1].endswith("passed, 0 failed")


def _suite(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(textwrap.dedent(body))
    return path


async def test_a_wrong_expectation_fails_with_a_clear_message(tmp_path: Path, registry: FlowRegistry) -> None:
    path = _suite(
        tmp_path,
        """
        flow: cant-send-email
        cases:
          - name: wrong on purpose
            turns:
              - step: ask_symptom
                choices: [cannot_connect]
              - user: password
                step: fix_firewall
                bot: port 587
                status: resolved
                slots: {domain: example.com}
                escalated: anything
        """,
    )
    report = await run_tests_async(registry, [path])
    [case] = report.cases
    assert not case.passed and not report.passed
    assert case.failures[0].startswith(
        "turn 1: expected choices ['cannot_connect'], offered ['cannot_connect', "
    )
    joined = "\n".join(case.failures[1:])
    assert "turn 2: the bot should say 'port 587' but said:" in joined
    assert "turn 2: expected step `fix_firewall`, reached `ask_fixed_account`" in joined
    assert "turn 2: expected status resolved, got active" in joined
    assert "turn 2: slot `domain` should be 'example.com', is None" in joined
    assert "turn 2: expected an escalation mentioning 'anything', got ''" in joined


async def test_turn_one_must_be_the_opening(tmp_path: Path, registry: FlowRegistry) -> None:
    path = _suite(
        tmp_path,
        """
        flow: cant-send-email
        cases:
          - name: no opening
            turns:
              - user: hello
        """,
    )
    report = await run_tests_async(registry, [path])
    assert report.cases[0].failures == ["turn 1 checks the opening and takes no `user`/`pick`"]


async def test_probe_fixtures_drive_the_branch(tmp_path: Path, registry: FlowRegistry) -> None:
    path = _suite(
        tmp_path,
        """
        flow: cant-send-email
        cases:
          - name: port 25 closed
            probes:
              smtp_25: {status: fail, summary: closed}
            turns:
              - step: ask_symptom
              - pick: cannot_connect
              - user: example.com
              - pick: "yes"
                status: escalated
                escalated: (closed)
        """,
    )
    report = await run_tests_async(registry, [path])
    assert report.passed, report.cases[0].failures


def test_a_malformed_suite_is_located(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        """
        flow: cant-send-email
        cases:
          - name: typo
            turns:
              - step: ask_symptom
                boot: hi
        """,
    )
    with pytest.raises(FlowError) as info:
        load_suite(path)
    [(location, message)] = info.value.problems
    assert (location.file, location.line) == (str(path), 7)
    assert "boot" in message


def test_flows_test_command_exits_1_on_a_failing_case_or_low_coverage(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    (flows / "tests").mkdir(parents=True)
    shutil.copy(FLOWS / "cant-send-email.yaml", flows)
    (flows / "tests" / "one.yaml").write_text(
        "flow: cant-send-email\ncases:\n  - name: opening\n    turns:\n      - step: ask_symptom\n"
    )
    runner = CliRunner()
    ok = runner.invoke(main, ["flows", "test", "--flows", str(flows)])
    assert ok.exit_code == 0, ok.output
    assert "PASS  cant-send-email: opening" in ok.stdout
    assert "steps never reached: " in ok.stdout

    low = runner.invoke(main, ["flows", "test", "--flows", str(flows), "--min-coverage", "90"])
    assert low.exit_code == 1
    assert "step coverage is under 90%" in low.output

    (flows / "tests" / "two.yaml").write_text(
        "flow: cant-send-email\ncases:\n  - name: bad\n    turns:\n      - step: welcome\n"
    )
    bad = runner.invoke(main, ["flows", "test", "--flows", str(flows)])
    assert bad.exit_code == 1
    assert "FAIL  cant-send-email: bad" in bad.stdout
    assert "turn 1: expected step `welcome`, reached `ask_symptom`" in bad.stdout
    assert "1 passed, 1 failed" in bad.stdout
