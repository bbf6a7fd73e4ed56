"""`supportbot flows …`: check, test and draw the flows support leads write."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.common import flows_path, load_registry
from bot.flows.check import check_files, flow_files
from bot.flows.testing import run_tests, test_files_for


@click.group()
def flows() -> None:
    """Work on flow files: check, test, graph."""


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate flows; print FILE:LINE:COL: message per problem; exit 1 if any."""
    files = flow_files(paths or (flows_path(None),))
    if not files:
        click.echo("no flow files found; pass a folder or files", err=True)
        sys.exit(1)
    problems = check_files(files)
    for line in problems:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} flow file(s) OK")


@flows.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--flows", "flows_dir", default=None, metavar="DIR", help="Folder of the flows under test.")
@click.option("--min-coverage", default=0.0, show_default=True, help="Fail below this step coverage (0-100).")
def test_command(paths: tuple[Path, ...], flows_dir: str | None, min_coverage: float) -> None:
    """Run the YAML conversation tests; print pass/fail per case and step coverage."""
    folder = flows_path(flows_dir)
    registry = load_registry(str(folder))
    files = test_files_for(paths or (folder,))
    if not files:
        click.echo(f"no conversation tests found in {folder / 'tests'}", err=True)
        sys.exit(1)
    report = run_tests(registry, files)
    for case in report.cases:
        click.echo(f"{'PASS' if case.passed else 'FAIL'}  {case.flow}: {case.name}")
        for failure in case.failures:
            click.echo(f"      {failure}")
    ok = report.passed
    for coverage in report.coverage.values():
        click.echo(
            f"coverage {coverage.flow}: steps {len(coverage.seen_steps & coverage.steps)}/{len(coverage.steps)}"
            f" ({coverage.step_ratio:.0%}), edges {len(coverage.seen_edges & coverage.edges)}/"
            f"{len(coverage.edges)} ({coverage.edge_ratio:.0%})"
        )
        missing = sorted(coverage.steps - coverage.seen_steps)
        if missing:
            click.echo(f"  steps never reached: {', '.join(missing)}")
        if coverage.step_ratio * 100 < min_coverage:
            click.echo(f"  step coverage is under {min_coverage:.0f}%", err=True)
            ok = False
    passed = sum(c.passed for c in report.cases)
    click.echo(f"{passed} passed, {len(report.cases) - passed} failed")
    if not ok:
        sys.exit(1)
