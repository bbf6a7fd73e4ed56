"""Prints how well a flow understands customers: the evaluation in `flows test` and `flows explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.engine.compile import CompiledFlow
from bot.engine.registry import FlowRegistry
from bot.flowtests.understanding import KINDS, Report, Tally, cross_validate, evaluate, load_suite
from bot.nlu.policy import DIRECT_MARGIN, UNCLEAR, Decision, Understander

FOLDS = 5


def understanders(flow: CompiledFlow) -> dict[str, Understander]:
    """Every question of `flow` that understands typed answers, by step id."""
    return {sid: step.understander for sid, step in flow.steps.items() if step.understander is not None}


def evaluate_files(registry: FlowRegistry, files: list[Path], folds: int = FOLDS) -> list[dict[str, Any]]:
    """Evaluate each labelled-message file against its flow; the JSON form of each report."""
    out = []
    for path in files:
        suite = load_suite(path)
        flow = registry.get(suite.flow)
        questions = understanders(flow)
        report = evaluate(suite, questions)
        data = report.to_json()
        data["file"] = str(path)
        data["flow_version"] = flow.version
        data["cross_validation"] = {
            step: cross_validate(questions[step], questions[step].examples, folds).to_json()
            for step in report.steps()
            if questions[step].classifier is not None
        }
        data["_report"] = report
        out.append(data)
    return out


def print_evaluation(data: dict[str, Any]) -> bool:
    """The evaluation as text, like `rasa test nlu`; True when every target is met."""
    report: Report = data["_report"]
    click.echo(
        f"understanding {data['flow']}@{data['flow_version']} ({data['file']}): {len(report.results)} messages"
    )
    for step in report.steps():
        click.echo(f"  question {step}: {_line(report.tally(step, unclear=False))}")
        for kind in KINDS:
            tally = report.causes(kind, step)
            if tally.total:
                click.echo(f"    {kind:7} {_line(tally)}")
        unclear_here = report.unclear(step)
        if unclear_here.total:
            o = unclear_here.outcomes
            click.echo(
                f"    unclear {unclear_here.total} naming no cause: {o['asked']} asked a question, {o['wrong']} given a fix"
            )
        for expected, got, count in report.confusions(step):
            click.echo(f"    confused: {expected} taken for {got} ({count})")
        cv = data["cross_validation"].get(step)
        if cv:
            click.echo(
                f"    cross-validation of its examples ({FOLDS} folds): {cv['right']}/{cv['total']} right "
                f"({cv['accuracy']:.1%}), {cv['wrong']} wrong"
            )
    unclear = report.unclear()
    targets = report.targets
    pasted, words, everything = report.causes("pasted"), report.causes("words"), report.tally()
    click.echo(
        f"  targets: pasted errors {pasted.share():.1%} (>= {targets.pasted:.0%}), own words {words.share():.1%} "
        f"(>= {targets.words:.0%}), wrong fixes {everything.share('wrong'):.1%} (<= {targets.wrong:.0%}), "
        f"unclear given a fix {unclear.outcomes['wrong']} (0)"
    )
    for failure in data["failures"]:
        click.echo(f"  MISSED {failure}", err=True)
    return not data["failures"]


def print_explanation(flow: CompiledFlow, step_id: str, text: str) -> Decision:
    """How the bot would route `text` at `step_id`, and why."""
    questions = understanders(flow)
    understander = questions.get(step_id)
    if understander is None:
        known = ", ".join(sorted(questions)) or "none"
        raise click.ClickException(
            f"step `{step_id}` of {flow.id} is not a question with choices; questions: {known}"
        )
    decision = understander.decide(text)
    click.echo(f"{flow.id}@{flow.version} {step_id}: {text!r}")
    found = decision.entities.to_json()
    click.echo("  entities: " + (", ".join(f"{k}={v}" for k, v in found.items()) if found else "none"))
    if decision.signals:
        for hit in decision.signals:
            click.echo(f"  signal: {hit.signal!r} -> {hit.choice} (strength {hit.strength})")
    else:
        click.echo("  signals: none")
    if decision.scores is not None:
        shown = ", ".join(
            f"{'(names no answer)' if c == UNCLEAR else c} {p:.2f}" for c, p in decision.scores.ranked[:4]
        )
        click.echo(f"  classifier: {shown}")
    elif understander.classifier is None:
        click.echo("  classifier: none (the question has no examples; words and signals only)")
    thresholds = understander.thresholds
    click.echo(
        f"  thresholds: route at {thresholds.direct:.2f} (and {DIRECT_MARGIN:.2f} ahead of the next), "
        f"confirm at {thresholds.confirm:.2f}"
        + "".join(f"; {c} routes at {v:.2f}" for c, v in understander.direct_for.items())
    )
    verb = {"route": "route to", "confirm": "ask to confirm", "reask": "ask again"}[decision.action]
    target = f" {decision.choice}" if decision.action != "reask" and decision.choice else ""
    click.echo(f"  decision: {verb}{target}, because {decision.reason}")
    return decision


def _line(tally: Tally) -> str:
    o = tally.outcomes
    return (
        f"{tally.right}/{tally.total} right ({tally.share():.1%}): {o['direct']} directly, "
        f"{o['confirmed']} after a confirmation, {o['asked']} asked again, {o['wrong']} wrong"
    )
