"""`supportbot flows …`: check, test, draw and describe (schema) the flows support leads write."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli.common import flows_path, load_registry
from bot.flows.formats import FORMATS

# Each command imports what it uses when it runs: `flows check` validates without compiling (no
# transitions, no scikit-learn), and `supportbot --help` loads none of it.
if TYPE_CHECKING:
    from bot.flowtests.conversations import Report as TestReport


@click.group()
def flows() -> None:
    """Work on flow files: check, test, graph, schema."""


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1), e.g. in CI.")
def check(paths: tuple[Path, ...], strict: bool) -> None:
    """Validate flows; print FILE:LINE:COL: message per problem, then warnings; exit 1 on any problem."""
    # pydantic looks for plugins (observability hooks) in every installed package's metadata when it
    # builds the flow models (a valid flow is read without them; a broken one is explained by them); a
    # check has nothing for them to observe. Unless the user chose plugins themselves, skip the scan.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from bot.flows.check import check_flows, flow_files, read_flows
    from bot.flows.lint import lint_flow

    files = flow_files(paths or (flows_path(None),))
    if not files:
        click.echo("no flow files found; pass a folder or files", err=True)
        sys.exit(1)
    parsed, problems = read_flows(files)  # each file read and parsed once, for the checks and the lint
    problems += check_flows(parsed)
    warnings = [warning for flow in parsed for warning in lint_flow(flow.spec, flow.doc, flow.text)]
    for line in problems:
        click.echo(line)
    for warning in warnings:
        click.echo(str(warning))
    noted = f", {len(warnings)} warning(s)" if warnings else ""
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len(files)} file(s){noted}", err=True)
        sys.exit(1)
    if warnings and strict:
        click.echo(f"{len(warnings)} warning(s), and --strict makes warnings fail", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} flow file(s) OK{noted}")


@flows.command()
@click.argument("flow", required=False)
@click.option("--flows", "flows_dir", default=None, metavar="DIR", help="Folder of the flows.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="Diagram format.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write to FILE.")
def graph(flow: str | None, flows_dir: str | None, fmt: str, output: Path | None) -> None:
    """Draw FLOW (an id, or a flow file) with steps coloured by kind and labelled arrows."""
    from bot.engine.compile import load_file
    from bot.flows.diagram import DiagramError, render

    if flow is not None and flow.endswith((".yaml", ".yml")):
        compiled = load_file(Path(flow))
    else:
        compiled = load_registry(flows_dir).get(flow)
    try:
        text = render(compiled, fmt)
    except DiagramError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@flows.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write to FILE.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of flow files (flows/flow.schema.json holds a copy for editors)."""
    from bot.flows.schema import schema_text

    if output is None:
        click.echo(schema_text(), nl=False)
    else:
        output.write_text(schema_text(), encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@flows.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--flows", "flows_dir", default=None, metavar="DIR", help="Folder of the flows under test.")
@click.option("--min-coverage", default=0.0, show_default=True, help="Fail below this step coverage (0-100).")
@click.option(
    "--min-branch-coverage",
    type=float,
    default=None,
    help="Fail below this coverage of choices, conditions and probe outcomes (0-100; default: --min-coverage).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document (results, coverage, understanding)."
)
def test_command(
    paths: tuple[Path, ...],
    flows_dir: str | None,
    min_coverage: float,
    min_branch_coverage: float | None,
    as_json: bool,
) -> None:
    """Run the YAML conversation tests; print pass/fail per case, coverage, and how to reach what was missed.

    Files named *.nlu.yaml hold labelled customer messages: each question's understanding is
    evaluated on them (right directly, after a confirmation, asked again, wrong), with k-fold
    cross-validation of the flow's examples; missing a file's targets fails the run.
    """
    from bot.cli.understanding import evaluate_files, print_evaluation
    from bot.flowtests.conversations import run_tests, test_files_for

    folder = flows_path(flows_dir)
    registry = load_registry(str(folder))
    files = test_files_for(paths or (folder,))
    nlu_files = test_files_for(paths or (folder,), nlu=True)
    if not files and not nlu_files:
        click.echo(f"no conversation tests found in {folder / 'tests'}", err=True)
        sys.exit(1)
    evaluations = evaluate_files(registry, nlu_files)
    report = run_tests(registry, files)
    if as_json:
        _print_json(report, evaluations)
        return
    for case in report.cases:
        click.echo(f"{'PASS' if case.passed else 'FAIL'}  {case.flow}: {case.name}")
        for failure in case.failures:
            click.echo(f"      {failure}")
    ok = report.passed
    branch_floor = min_coverage if min_branch_coverage is None else min_branch_coverage
    for coverage in report.coverage.values():
        kinds = ", ".join(f"{kind} {seen}/{total}" for kind, (seen, total) in coverage.by_kind().items())
        click.echo(
            f"coverage {coverage.flow}: steps {len(coverage.seen_steps & coverage.steps)}/{len(coverage.steps)}"
            f" ({coverage.step_ratio:.0%}), edges {len(coverage.seen_edges & coverage.edges)}/"
            f"{len(coverage.edges)} ({coverage.edge_ratio:.0%})" + (f": {kinds}" if kinds else "")
        )
        missing = [
            s
            for s in (coverage.compiled.steps if coverage.compiled else sorted(coverage.steps))
            if s not in coverage.seen_steps
        ]
        if missing:
            click.echo(f"  steps never reached: {', '.join(missing)}")
            for step in missing:
                route = coverage.route_to(step)
                click.echo(f"    {step}: " + (route or "no way from the start leads here"))
        for source, trigger, target in coverage.missed_edges():
            if target in coverage.seen_steps:  # a way to the others is printed above
                click.echo(f"  never taken: {source} --{trigger}--> {target}")
        if coverage.step_ratio * 100 < min_coverage:
            click.echo(f"  step coverage is under {min_coverage:.0f}%", err=True)
            ok = False
        if coverage.edge_ratio * 100 < branch_floor:
            click.echo(f"  choice/branch coverage is under {branch_floor:.0f}%", err=True)
            ok = False
    for evaluation in evaluations:
        ok = print_evaluation(evaluation) and ok
    passed = sum(c.passed for c in report.cases)
    click.echo(f"{passed} passed, {len(report.cases) - passed} failed")
    if not ok:
        sys.exit(1)


def _print_json(report: TestReport, evaluations: list[dict[str, Any]]) -> None:
    passed = sum(c.passed for c in report.cases)
    ok = report.passed and not any(e["failures"] for e in evaluations)
    document = {
        "passed": passed,
        "failed": len(report.cases) - passed,
        "cases": [
            {"flow": c.flow, "name": c.name, "passed": c.passed, "failures": list(c.failures)}
            for c in report.cases
        ],
        "coverage": {
            flow: {"steps": round(c.step_ratio, 4), "edges": round(c.edge_ratio, 4)}
            for flow, c in report.coverage.items()
        },
        "understanding": [{k: v for k, v in e.items() if k != "_report"} for e in evaluations],
    }
    click.echo(json.dumps(document, indent=2))
    if not ok:
        sys.exit(1)


@flows.command()
@click.argument("flow")
@click.argument("step")
@click.argument("text")
@click.option("--flows", "flows_dir", default=None, metavar="DIR", help="Folder of the flows.")
def explain(flow: str, step: str, text: str, flows_dir: str | None) -> None:
    """How the bot would route TEXT typed at question STEP of FLOW, and why (signals, classifier, thresholds)."""
    from bot.cli.understanding import print_explanation

    print_explanation(load_registry(flows_dir).get(flow), step, text)
