"""Lint warnings: each rule on a small flow that breaks it, with the exact message, and --strict."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine.registry import FlowRegistry
from bot.flows.lint import RULES, _pattern_clashes, lint_files, lint_flow
from bot.flows.loader import parse_flow
from bot.nlu.signals import compile_pattern
from tests.support.flows import REFERENCE, flows_check

FIXTURES = Path(__file__).parent / "fixtures" / "lint"

EXPECTED: dict[str, list[str]] = {
    "long_text": [
        "8:10: warning: this message is 450 characters; customers skim, keep each under 400: shorten it, "
        "or split it into a list of `say:` messages [long-text]",
        "18:26: warning: this choice label is 73 characters; buttons read best under 60: shorten it and "
        "move the detail into `synonyms:` or the question [long-text]",
    ],
    "similar_choices": [
        "11:34: warning: choice `Yes it works now!` reads almost like `Yes, it works now`; customers can't "
        "tell them apart and typed answers may pick the wrong one: reword one of them [similar-choices]",
        "13:9: warning: `nope` is a label or synonym of both `still_fails` and `other`; a customer who "
        "types it always gets the first: keep it on one choice only [similar-choices]",
    ],
    "uncapped_loop": [
        "7:3: warning: steps ask_tried -> tip_restart can loop back to `ask_tried` with no cap, so a "
        "customer can go round the same questions forever; give one of them `max_visits:` and "
        "`on_max_visits:` (e.g. escalate after 3 rounds) [uncapped-loop]",
    ],
    "unused_variable": [
        "8:3: warning: variable `panel_name` is never used; put it in a text as {{ panel_name }} or "
        "delete it [unused-variable]",
    ],
    "vague_escalation": [
        "16:15: warning: the reason `Escalate.` is too vague for the person who picks this up; say what "
        "was tried and found, e.g. `Port 587 did not answer after the customer switched to it` "
        "[vague-escalation]",
        "18:15: warning: the reason `The customer needs help with an issue.` is too vague for the person "
        "who picks this up; say what was tried and found, e.g. `Port 587 did not answer after the "
        "customer switched to it` [vague-escalation]",
    ],
    "unknown_as_pass": [
        "20:16: warning: when probe `smtp_25` can't tell (`unknown`), this goes to `port_open` like a "
        'pass, but that step says the check succeeded ("answers"); send `unknown` to a step that works '
        "without the result, e.g. one explaining how to test it by hand [unknown-as-pass]",
    ],
    "typo": [
        "20:13: warning: a probe result has no field `stauts`; did you mean `status`? [typo]",
        "22:13: warning: a probe status is never `pas`; did you mean `pass`? [typo]",
        "30:3: warning: step `ask_prot` is named almost like `ask_port` (line 25); if it is a typo, did "
        "you mean `ask_port`? If not, rename one so they are easy to tell apart [typo]",
    ],
    "overlapping_signals": [
        "14:22: warning: pattern `rejected` of `password` also matches `the server rejected my message as "
        "spam`, an example of `blocked`: narrow the pattern, or move the example [overlapping-signals]",
        "20:19: warning: code `550` names both `password` and `blocked`, so it decides neither: keep it on "
        "the choice it surely means, or drop it [overlapping-signals]",
    ],
    "schema_line": [
        "1:1: warning: the file does not start with `# yaml-language-server: $schema=flow.schema.json`; "
        "add it so editors complete keys and underline mistakes as you type (the path is relative to "
        "this file) [schema-line]",
    ],
}


def test_every_rule_has_a_broken_flow() -> None:
    rules = {line.rsplit("[", 1)[1].rstrip("]") for lines in EXPECTED.values() for line in lines}
    assert rules == set(RULES)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_rule_reports_the_exact_message_and_place(name: str) -> None:
    path = FIXTURES / f"{name}.yaml"
    assert [str(w) for w in lint_files([path])] == [f"{path}:{line}" for line in EXPECTED[name]]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_flows_with_only_warnings_still_load(name: str, tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text((FIXTURES / f"{name}.yaml").read_text())
    registry = FlowRegistry.load_dir(tmp_path)
    assert registry.refused == {} and registry.ids() == [f"lint-{name.replace('_', '-')}"]


def test_reference_flow_has_no_warnings() -> None:
    assert lint_files([REFERENCE]) == []


def test_a_capped_loop_is_fine() -> None:
    text = (
        (FIXTURES / "uncapped_loop.yaml")
        .read_text()
        .replace(
            "    next: ask_tried\n", "    next: ask_tried\n    max_visits: 3\n    on_max_visits: handoff\n"
        )
    )
    flow, doc = parse_flow(text, "capped.yaml")
    assert lint_flow(flow, doc, text) == []


def test_unknown_sent_to_a_neutral_step_is_fine() -> None:
    text = (FIXTURES / "unknown_as_pass.yaml").read_text().replace("unknown: port_open", "unknown: ask_done")
    flow, doc = parse_flow(text, "neutral.yaml")
    assert lint_flow(flow, doc, text) == []


def test_a_lint_ignore_comment_silences_one_rule_on_its_line_or_step() -> None:
    text = (FIXTURES / "long_text.yaml").read_text()
    quiet_step = text.replace("  explain:\n", "  explain:  # lint: ignore long-text\n")
    flow, doc = parse_flow(quiet_step, "quiet.yaml")
    assert [w.location.line for w in lint_flow(flow, doc, quiet_step)] == [18]
    other_rule = text.replace("  explain:\n", "  explain:  # lint: ignore typo\n")
    flow, doc = parse_flow(other_rule, "other.yaml")
    assert len(lint_flow(flow, doc, other_rule)) == 2
    everything = quiet_step.replace("next: done}", "next: done}  # lint: ignore", 1)
    flow, doc = parse_flow(everything, "all.yaml")
    assert lint_flow(flow, doc, everything) == []


def test_flows_check_prints_warnings_and_strict_fails_on_them() -> None:
    path = FIXTURES / "unused_variable.yaml"
    relaxed = flows_check(path)
    assert relaxed.exit_code == 0, relaxed.output
    assert relaxed.stdout.splitlines() == [
        f"{path}:{EXPECTED['unused_variable'][0]}",
        "1 flow file(s) OK, 1 warning(s)",
    ]
    strict = CliRunner().invoke(main, ["flows", "check", "--strict", str(path)])
    assert strict.exit_code == 1
    assert strict.stdout.splitlines() == [f"{path}:{EXPECTED['unused_variable'][0]}"]
    assert "1 warning(s), and --strict makes warnings fail" in strict.stderr
    clean = CliRunner().invoke(main, ["flows", "check", "--strict", str(REFERENCE)])
    assert clean.exit_code == 0 and clean.stdout == "1 flow file(s) OK\n"


def test_registry_logs_warnings_of_a_flow_it_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "flow.yaml").write_text((FIXTURES / "unused_variable.yaml").read_text())
    with caplog.at_level(logging.WARNING, logger="bot.engine.registry"):
        FlowRegistry.load_dir(tmp_path)
    assert any("variable `panel_name` is never used" in r.getMessage() for r in caplog.records)


def test_pattern_clashes_are_what_searching_one_pattern_at_a_time_finds() -> None:
    """The RE2 set finds, for every pattern, the same first clash as a search per pattern and text;
    each choice of the reference flow is given every other choice's examples, so most patterns clash."""
    flow, _ = parse_flow(REFERENCE.read_text(encoding="utf-8"), str(REFERENCE))
    checked = 0
    for step in flow.steps.values():
        if not any(c.signals and c.signals.patterns for c in step.choices or ()):
            continue
        everyone = [text for c in step.choices or () for text in (c.label, *c.examples)]
        choices = [
            c.model_copy(update={"examples": [*c.examples, *everyone[::3]]}) for c in step.choices or ()
        ]
        expected = {}
        for i, choice in enumerate(choices):
            for j, source in enumerate(choice.signals.patterns if choice.signals else ()):
                pattern = compile_pattern(source)
                expected[(i, j)] = next(
                    (
                        (other.key, text if len(text) <= 80 else text[:79] + "…")
                        for other in choices
                        if other.key != choice.key
                        for text in (other.label, *other.synonyms, *other.examples)
                        if pattern.search(" ".join(text.split()))
                    ),
                    None,
                )
        found = _pattern_clashes(choices)
        assert found == {k: v for k, v in expected.items() if v is not None}
        checked += len(found)
    assert checked > 20  # the test compared real clashes, not two empty tables
