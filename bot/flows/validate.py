"""Checks a flow's graph and data before any customer sees it: every problem with file:line:col."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable

from bot.errors import Location
from bot.flows.checks import CHECK_ARGUMENTS
from bot.flows.graph import Edge, flow_edges, is_final
from bot.flows.reads import TemplateProblem, condition_reads, text_reads
from bot.flows.shapes import ChoiceShape, FlowShape
from bot.flows.yamlsafe import Document, Path
from bot.nlu.signals import SignalError, code_strength, compile_pattern

Problem = tuple[Location, str]
REQUIRED_OUTCOMES = ("pass", "warn", "fail", "unknown")


class Catalogue:
    """What flows may name outside themselves: probes (with their arguments) and other flows."""

    def __init__(
        self,
        probe_known: Callable[[str], bool],
        probe_arguments: Callable[[str], frozenset[str]],
        flow_ids: Iterable[str] | None = None,
    ) -> None:
        self.probe_known = probe_known
        self.probe_arguments = probe_arguments
        self.flow_ids = set(flow_ids) if flow_ids is not None else None


def validate_flow(flow: FlowShape, doc: Document, catalogue: Catalogue) -> list[Problem]:
    """Every error in `flow`, ordered by position in the file."""
    checker = _Checker(flow, doc, catalogue)
    checker.run()
    return sorted(checker.problems, key=lambda p: (p[0].line, p[0].column, p[1]))


class _Checker:
    def __init__(self, flow: FlowShape, doc: Document, catalogue: Catalogue) -> None:
        self.flow = flow
        self.doc = doc
        self.catalogue = catalogue
        self.problems: list[Problem] = []
        self.edges = flow_edges(flow)
        self.valid_edges = [e for e in self.edges if e.target in flow.steps]

    def add(self, path: Path, message: str, *, key: bool = False) -> None:
        self.problems.append((self.doc.where(path, key=key), message))

    def run(self) -> None:
        self.check_targets()
        self.check_steps()
        reachable = self.check_reachable()
        self.check_dead_ends(reachable)
        self.check_loops()
        self.check_slots()

    def suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.flow.steps), n=1, cutoff=0.6)
        return f"; did you mean `{close[0]}`?" if close else "; add the step or fix the name"

    def check_targets(self) -> None:
        if self.flow.start not in self.flow.steps:
            self.add(
                ("start",), f"start step `{self.flow.start}` does not exist" + self.suggest(self.flow.start)
            )
        for edge in self.edges:
            if edge.target not in self.flow.steps:
                self.add(edge.path, f"step `{edge.target}` does not exist" + self.suggest(edge.target))
        for name, path in (("on_human", ("on_human",)),):
            target = getattr(self.flow, name)
            if target and target not in self.flow.steps:
                self.add(path, f"step `{target}` does not exist" + self.suggest(target))
        for old, new in self.flow.migrate.items():
            if new not in self.flow.steps:
                self.add(("migrate", old), f"migrate target `{new}` does not exist" + self.suggest(new))

    def check_steps(self) -> None:
        for step_id, step in self.flow.steps.items():
            base: Path = ("steps", step_id)
            if step.kind == "probe":
                name = str(step.probe)
                if not self.catalogue.probe_known(name):
                    self.add(
                        (*base, "probe"),
                        f"unknown probe `{name}`; known probes: "
                        + ", ".join(sorted(_known_probes(self.catalogue))),
                    )
                else:
                    allowed = self.catalogue.probe_arguments(name)
                    for arg in step.args:
                        if arg not in allowed:
                            self.add(
                                (*base, "args", arg),
                                f"probe `{name}` takes no argument `{arg}`; "
                                f"it takes: {', '.join(sorted(allowed))}",
                                key=True,
                            )
                outcomes = step.outcomes or {}
                if "default" not in outcomes:
                    missing = [o for o in REQUIRED_OUTCOMES if o not in outcomes]
                    if missing:
                        self.add(
                            (*base, "outcomes"),
                            "probe outcome(s) not handled: "
                            + ", ".join(missing)
                            + "; map each to a step or add `default:`",
                        )
            if step.kind == "branch":
                arms = step.branch or []
                if not arms or arms[-1].else_ is None:
                    self.add(
                        (*base, "branch"),
                        "this branch has no `else:` arm, so it can get stuck when "
                        "no condition holds; end it with `- else: <step>`",
                    )
                for i, arm in enumerate(arms[:-1]):
                    if arm.else_ is not None:
                        self.add(
                            (*base, "branch", i), "`else:` must be the last arm; arms after it never run"
                        )
            flow_ids = self.catalogue.flow_ids
            if step.kind == "call" and flow_ids is not None and step.call not in flow_ids:
                self.add(
                    (*base, "call"),
                    f"no flow with id `{step.call}` is loaded; check the id at the top of that flow's file",
                )
            if step.kind == "ask" and step.choices:
                seen: dict[str, int] = {}
                for i, choice in enumerate(step.choices):
                    if choice.key in seen:
                        self.add(
                            (*base, "choices", i),
                            f"two choices have the id `{choice.key}`; give one of them a different `id:`",
                        )
                    seen[choice.key] = i
                    self.check_signals((*base, "choices", i), choice)
                if all(c.hidden for c in step.choices):
                    self.add((*base, "choices"), "every choice is `hidden:`; show at least one as a button")

    def check_signals(self, path: Path, choice: ChoiceShape) -> None:
        if choice.signals is None:
            return
        for j, code in enumerate(choice.signals.codes):
            try:
                code_strength(code)
            except SignalError as exc:
                self.add((*path, "signals", "codes", j), str(exc))
        for j, pattern in enumerate(choice.signals.patterns):
            try:
                compile_pattern(pattern)
            except SignalError as exc:
                self.add((*path, "signals", "patterns", j), str(exc))

    def check_reachable(self) -> set[str]:
        roots = [self.flow.start] + ([self.flow.on_human] if self.flow.on_human else [])
        reachable = _reach(roots, self.valid_edges, forward=True)
        for step_id in self.flow.steps:
            if step_id not in reachable:
                self.add(
                    ("steps", step_id),
                    f"step `{step_id}` is unreachable: no step leads to it; "
                    "link it from another step or delete it",
                    key=True,
                )
        return reachable

    def check_dead_ends(self, reachable: set[str]) -> None:
        finals = [s for s, step in self.flow.steps.items() if is_final(step)]
        can_finish = _reach(finals, self.valid_edges, forward=False)
        for step_id in self.flow.steps:
            if step_id in reachable and step_id not in can_finish:
                self.add(
                    ("steps", step_id),
                    f"dead end: from step `{step_id}` the conversation can never "
                    "reach an `end:` or `escalate:` step; add a way out",
                    key=True,
                )

    def check_loops(self) -> None:
        # A loop through a question waits for the customer each time round; a loop of automatic
        # steps (say, branch, probe) would spin forever unless one of its steps has `max_visits`.
        automatic = [
            e for e in self.valid_edges if self.flow.steps[e.source].kind != "ask" and e.trigger != "capped"
        ]
        for component in _cycles(list(self.flow.steps), automatic):
            if not any(self.flow.steps[s].max_visits for s in component):
                first = min(component, key=lambda s: self.doc.where(("steps", s), key=True).line)
                self.add(
                    ("steps", first),
                    "loop with no cap: steps "
                    + " -> ".join(sorted(component))
                    + " can repeat forever without asking the customer; give one of them "
                    "`max_visits:` and `on_max_visits:`",
                    key=True,
                )

    def check_slots(self) -> None:
        # A slot only entities fill may be filled by any typed answer, like an input: read it
        # behind an `if:`. One that steps also set (the domain) is checked like any other slot.
        heard = set(self.flow.inputs) | (set(self.flow.entities.values()) - self._all_set_slots())
        known_everywhere = set(self.flow.variables) | heard
        reads = self._reads()
        for name in self.flow.variables:
            if name in self._all_set_slots():
                self.add(("variables", name), f"`{name}` is both a variable and a slot; rename one", key=True)
        available = _available_slots(self.flow, self.valid_edges, heard)
        for step_id, path, names in reads:
            if step_id not in available:
                continue  # unreachable, reported already
            for name in sorted(names - known_everywhere - available[step_id]):
                self.add(
                    path,
                    f"slot `{name}` is read here before any step can set it; ask for it "
                    "earlier, set it with a choice's `set:`, or list it under `inputs:`",
                )

    def _all_set_slots(self) -> set[str]:
        return {s for e in self.edges for s in e.sets}

    def _reads(self) -> list[tuple[str, Path, frozenset[str]]]:
        reads: list[tuple[str, Path, frozenset[str]]] = []

        def text(step_id: str, path: Path, source: str | None) -> None:
            if source is None:
                return
            try:
                reads.append((step_id, path, text_reads(source).undeclared))
            except TemplateProblem as exc:
                self.add(path, str(exc))

        for step_id, step in self.flow.steps.items():
            base: Path = ("steps", step_id)
            says = step.messages
            for i, message in enumerate(says):
                text(step_id, (*base, "say", i) if isinstance(step.say, list) else (*base, "say"), message)
            text(step_id, (*base, "ask"), step.ask)
            text(step_id, (*base, "hint"), step.hint)
            text(step_id, (*base, "escalate"), step.escalate)
            for i, choice in enumerate(step.choices or ()):
                text(step_id, (*base, "choices", i, "label"), choice.label)
            for arg, source in step.args.items():
                text(step_id, (*base, "args", arg), source)
            for i, arm in enumerate(step.branch or ()):
                if arm.if_ is not None:
                    try:
                        reads.append(
                            (step_id, (*base, "branch", i, "if"), condition_reads(arm.if_).undeclared)
                        )
                    except TemplateProblem as exc:
                        self.add((*base, "branch", i, "if"), str(exc))
        return reads


def _known_probes(catalogue: Catalogue) -> list[str]:
    return [name for name in CHECK_ARGUMENTS if catalogue.probe_known(name)]


def _reach(roots: Iterable[str], edges: list[Edge], *, forward: bool) -> set[str]:
    links: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        if forward:
            links[e.source].append(e.target)
        else:
            links[e.target].append(e.source)
    seen: set[str] = set()
    stack = [r for r in roots if r]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(links[node])
    return seen


def _cycles(nodes: list[str], edges: list[Edge]) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Tarjan's algorithm, iterative)."""
    links: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        links[e.source].append(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = links[node]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in links[node]:
                    found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _available_slots(flow: FlowShape, edges: list[Edge], inputs: set[str]) -> dict[str, set[str]]:
    """Slots that may have been set on some path from the start to each step."""
    available: dict[str, set[str]] = {flow.start: set(inputs)} if flow.start in flow.steps else {}
    if flow.on_human in flow.steps:
        everything = {s for e in edges for s in e.sets} | inputs
        available[str(flow.on_human)] = everything
    changed = True
    while changed:
        changed = False
        for e in edges:
            if e.source not in available:
                continue
            incoming = available[e.source] | e.sets
            current = available.setdefault(e.target, set())
            if not incoming <= current:
                current |= incoming
                changed = True
    return available
