"""Conversation tests written beside flows: scripted turns, expected replies, probe results as fixtures."""

from __future__ import annotations

import asyncio
import difflib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.engine.compile import CompiledFlow
from bot.engine.engine import Engine
from bot.engine.model import Incoming, Turn
from bot.engine.probing import FixtureProbes, ProbeResult
from bot.engine.registry import FlowRegistry
from bot.errors import FlowError
from bot.flows.graph import Edge
from bot.flows.yamlsafe import read_document


class ProbeFixture(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(pattern="^(pass|warn|fail|unknown|skipped)$")
    summary: str = "fixture result"
    details: dict[str, Any] = Field(default_factory=dict)


class TurnSpec(BaseModel):
    """One turn: what the customer does (`user` types, `pick` clicks) and what must follow."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
    user: str | None = None
    pick: str | None = None
    bot: str | list[str] | None = Field(default=None, description="Text the bot must say (substring)")
    step: str | None = None
    slots: dict[str, Any] | None = None
    status: str | None = None
    escalated: str | None = Field(default=None, description="Substring of the escalation reason")
    choices: list[str] | None = Field(default=None, description="Choice ids offered after the turn")


class CaseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    slots: dict[str, Any] = Field(default_factory=dict, description="Inputs given at the start")
    probes: dict[str, ProbeFixture] = Field(default_factory=dict)
    turns: list[TurnSpec]


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: str
    cases: list[CaseSpec]


@dataclass
class CaseResult:
    file: str
    name: str
    flow: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class Coverage:
    """Which steps and edges of one flow version the cases went through."""

    flow: str
    steps: set[str]
    edges: set[tuple[str, str, str]]
    seen_steps: set[str] = field(default_factory=set)
    seen_edges: set[tuple[str, str, str]] = field(default_factory=set)
    compiled: CompiledFlow | None = None  # to describe how to reach what was missed

    @property
    def step_ratio(self) -> float:
        return len(self.seen_steps & self.steps) / len(self.steps) if self.steps else 1.0

    @property
    def edge_ratio(self) -> float:
        return len(self.seen_edges & self.edges) / len(self.edges) if self.edges else 1.0

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Decision coverage: (taken, total) for choices, branch conditions and probe outcomes."""
        counts: dict[str, tuple[int, int]] = {}
        for kind, prefix in (
            ("choices", "choice:"),
            ("conditions", "branch"),
            ("probe outcomes", "outcome:"),
        ):
            edges = {e for e in self.edges if e[1].startswith(prefix)}
            if edges:
                counts[kind] = (len(edges & self.seen_edges), len(edges))
        return counts

    def missed_edges(self) -> list[tuple[str, str, str]]:
        order = {step: i for i, step in enumerate(self.compiled.steps)} if self.compiled else {}
        return sorted(self.edges - self.seen_edges, key=lambda e: (order.get(e[0], 0), e))

    def route_to(self, step: str) -> str | None:
        """The shortest way from the start to `step`, told as what a test would do at each step."""
        if self.compiled is None:
            return None
        return describe_route(self.compiled, step)


@dataclass
class Report:
    cases: list[CaseResult] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(case.passed for case in self.cases)


def load_suite(path: Path) -> SuiteSpec:
    doc = read_document(path.read_text(encoding="utf-8"), str(path))
    try:
        return SuiteSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems = [
            (doc.where(tuple(e["loc"])), f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()
        ]
        raise FlowError(problems) from None


def run_tests(registry: FlowRegistry, test_files: Iterable[Path]) -> Report:
    return asyncio.run(run_tests_async(registry, test_files))


async def run_tests_async(registry: FlowRegistry, test_files: Iterable[Path]) -> Report:
    report = Report()
    for path in test_files:
        suite = load_suite(path)
        flow = registry.get(suite.flow)
        coverage = report.coverage.setdefault(
            flow.id,
            Coverage(
                flow=f"{flow.id}@{flow.version}",
                steps=set(flow.steps),
                edges={(e.source, e.trigger, e.target) for e in flow.edges},
                compiled=flow,
            ),
        )
        for case in suite.cases:
            report.cases.append(await _run_case(registry, str(path), suite.flow, case, coverage))
    return report


def iter_cases(test_files: Iterable[Path]) -> list[tuple[Path, str, CaseSpec]]:
    """(file, flow id, case) for every case, so a runner such as pytest can run them one by one."""
    return [
        (path, suite.flow, case)
        for path in test_files
        for suite in [load_suite(path)]
        for case in suite.cases
    ]


async def run_case(
    registry: FlowRegistry, file: Path | str, flow_id: str, case: CaseSpec, coverage: Coverage | None = None
) -> CaseResult:
    """Run one case; record the steps and edges it went through in `coverage` if given."""
    if coverage is None:
        flow = registry.get(flow_id)
        coverage = Coverage(flow.id, set(flow.steps), {(e.source, e.trigger, e.target) for e in flow.edges})
    return await _run_case(registry, str(file), flow_id, case, coverage)


async def _run_case(
    registry: FlowRegistry, file: str, flow_id: str, case: CaseSpec, coverage: Coverage
) -> CaseResult:
    result = CaseResult(file=file, name=case.name, flow=flow_id)
    probes = FixtureProbes(
        {
            check: ProbeResult(id=check, status=f.status, summary=f.summary, details=f.details)  # type: ignore[arg-type]
            for check, f in case.probes.items()
        }
    )
    engine = Engine(registry, probes)
    flow = registry.get(flow_id)
    conv = None
    for number, spec in enumerate(case.turns, 1):
        try:
            if conv is None:
                if spec.user is not None or spec.pick is not None:
                    result.failures.append("turn 1 checks the opening and takes no `user`/`pick`")
                    return result
                conv, turn = await engine.start(f"test-{number}", flow_id, case.slots)
            else:
                turn = await engine.handle(conv, Incoming(text=spec.user, choice=spec.pick))
        except Exception as exc:
            result.failures.append(f"turn {number}: the engine failed: {exc}")
            return result
        result.failures.extend(
            f"turn {number}: {problem}" for problem in _check(spec, turn, conv.slots, set(flow.steps))
        )
    if conv is not None:
        _record(coverage, flow.steps, flow.edges, conv.path)
    return result


def _record(coverage: Coverage, steps: Any, edges: Any, path: list[str]) -> None:
    coverage.seen_steps.update(s for s in path if s in steps)
    by_pair: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for e in edges:
        by_pair.setdefault((e.source, e.target), []).append((e.source, e.trigger, e.target))
    for source, target in itertools.pairwise(path):
        for edge in by_pair.get((source, target), ()):
            coverage.seen_edges.add(edge)


def _check(spec: TurnSpec, turn: Turn, slots: dict[str, Any], steps: set[str] | None = None) -> list[str]:
    problems: list[str] = []
    said = "\n".join(m.text for m in turn.messages)
    wanted = [spec.bot] if isinstance(spec.bot, str) else (spec.bot or [])
    for text in wanted:
        if text.lower() not in said.lower():
            problems.append(f"the bot should say {text!r} but said: {said[:300]!r}")
    if spec.step is not None and turn.step != spec.step:
        problem = f"expected step `{spec.step}`, reached `{turn.step}`"
        if steps and spec.step not in steps:
            close = difflib.get_close_matches(spec.step, sorted(steps), n=1, cutoff=0.6)
            problem += f"; the flow has no step `{spec.step}`" + (
                f": did you mean `{close[0]}`?" if close else ""
            )
        problems.append(problem)
    if spec.status is not None and turn.status != spec.status:
        problems.append(f"expected status {spec.status}, got {turn.status}")
    for name, value in (spec.slots or {}).items():
        if slots.get(name) != value:
            problems.append(f"slot `{name}` should be {value!r}, is {slots.get(name)!r}")
    if spec.escalated is not None:
        reason = (turn.escalated or {}).get("reason", "")
        if spec.escalated.lower() not in reason.lower():
            problems.append(f"expected an escalation mentioning {spec.escalated!r}, got {reason!r}")
    if spec.choices is not None:
        offered = [c.id for c in turn.awaiting.choices] if turn.awaiting else []
        if offered != spec.choices:
            problems.append(f"expected choices {spec.choices}, offered {offered}")
    return problems


NLU_SUFFIX = ".nlu.yaml"  # labelled test messages for the understanding evaluation


def test_files_for(paths: Iterable[Path], *, nlu: bool = False) -> list[Path]:
    """Conversation test files (or, with `nlu`, labelled message files) named directly or under the folders named."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            folder = path / "tests" if (path / "tests").is_dir() else path
            files.extend(p for p in sorted(folder.glob("*.yaml")) if p.name.endswith(NLU_SUFFIX) == nlu)
        elif path.name.endswith(NLU_SUFFIX) == nlu:
            files.append(path)
    return files


def describe_route(flow: CompiledFlow, step: str) -> str | None:
    """`welcome -> ask_symptom [pick other] -> ...`: the fewest moves from the start to `step`."""
    links: dict[str, list[Edge]] = {}
    for edge in flow.edges:
        links.setdefault(edge.source, []).append(edge)
    came: dict[str, Edge | None] = {flow.start: None}
    queue = [flow.start]
    for current in queue:
        if current == step:
            break
        for edge in links.get(current, ()):
            if edge.target not in came:
                came[edge.target] = edge
                queue.append(edge.target)
    if step not in came:
        return None
    hops: list[str] = [step]
    node = step
    while (back := came[node]) is not None:
        how = _how(flow, back)
        hops.append(f"{back.source} [{how}]" if how else back.source)
        node = back.source
    return " -> ".join(reversed(hops))


def _how(flow: CompiledFlow, edge: Edge) -> str:
    spec = flow.steps[edge.source].spec
    kind, _, detail = edge.trigger.partition(":")
    if kind == "choice":
        return f"pick {detail}"
    if kind == "answer":
        return f"type a valid {spec.validate_ or 'answer'}"
    if kind == "invalid":
        return f"{spec.max_tries} unclear answers"
    if kind == "outcome":
        return f"probe {spec.probe}: {detail}"
    if kind == "branch":
        return f"if {edge.condition}" if edge.condition else "otherwise"
    if kind == "capped":
        return edge.label
    if kind == "return_unresolved":
        return f"{spec.call} ends unresolved"
    return ""
