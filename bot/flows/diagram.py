"""Draws a compiled flow as Mermaid (through transitions' diagrams extension), DOT or SVG, coloured by kind."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from transitions import Machine, State
from transitions.extensions.diagrams import GraphMachine

from bot.errors import BotError
from bot.flows.formats import FORMATS as FORMATS
from bot.flows.graph import Edge
from bot.flows.model import StepSpec

# Support leads think in these kinds: a `say` step with a `next` is usually a fix being explained.
KIND_LABELS = {
    "ask": "question",
    "probe": "check",
    "say": "fix / message",
    "branch": "decision",
    "call": "subflow",
    "escalate": "escalate",
    "end": "end",
}
# (fill, stroke, text): light fills so labels stay readable on GitHub's light and dark themes.
KIND_COLOURS = {
    "ask": ("#dbeafe", "#1d4ed8", "#0b1e4f"),
    "probe": ("#ede9fe", "#6d28d9", "#2e1065"),
    "say": ("#dcfce7", "#15803d", "#052e16"),
    "branch": ("#fef9c3", "#a16207", "#422006"),
    "call": ("#cffafe", "#0e7490", "#083344"),
    "escalate": ("#ffedd5", "#c2410c", "#431407"),
    "end": ("#e5e7eb", "#374151", "#111827"),
}


class DrawnStep(Protocol):
    """What a diagram reads of one compiled step."""

    @property
    def kind(self) -> str: ...
    @property
    def spec(self) -> StepSpec: ...


class Drawable(Protocol):
    """What a diagram reads of a compiled flow: the engine's `CompiledFlow` is one, so drawing shows
    the machine that runs without this layer depending on the engine."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def start(self) -> str: ...
    @property
    def steps(self) -> Mapping[str, DrawnStep]: ...
    @property
    def edges(self) -> Sequence[Edge]: ...
    @property
    def machine(self) -> Machine: ...


class DiagramError(BotError):
    """A diagram could not be drawn (e.g. SVG asked for without Graphviz installed)."""


@dataclass(frozen=True)
class _Arrow:
    source: str
    target: str
    label: str


def arrows(flow: Drawable) -> list[_Arrow]:
    """The compiled machine's transitions, labelled by choice, typed answer, outcome or condition.

    Read from `flow.machine` so the picture shows what runs; the labels come from the flow's edges,
    matched on (source, trigger, target), because the machine only knows trigger names.
    """
    labels: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for edge in flow.edges:
        labels[(edge.source, edge.trigger, edge.target)].append(edge.label)
    found: list[_Arrow] = []
    for trigger, event in flow.machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                dest = transition.dest
                if dest is None:  # an internal transition; flows have none
                    continue
                pending = labels.get((source, trigger, dest))
                label = pending.pop(0) if pending else ""
                found.append(_Arrow(source, dest, _clean(label)))
    order = {step: i for i, step in enumerate(flow.steps)}
    found.sort(key=lambda a: order.get(a.source, 0))
    return found


class _LabelledState(State):
    """A state that carries a display label, which the diagrams extension prints instead of the name."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label or self.name


class _DiagramMachine(GraphMachine):
    state_cls = _LabelledState


def to_mermaid(flow: Drawable) -> str:
    """A Mermaid state diagram, built by transitions' GraphMachine with graph_engine="mermaid"."""
    machine = _DiagramMachine(
        model=None,
        states=[{"name": step_id, "label": _node_label(flow, step_id)} for step_id in flow.steps],
        transitions=[
            # " ": an empty label would make transitions print the trigger name instead
            {"trigger": f"t{i}", "source": a.source, "dest": a.target, "label": a.label or " "}
            for i, a in enumerate(arrows(flow))
        ],
        initial=flow.start,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{flow.title} ({flow.id} v{flow.version})",
    )
    machine.style_attributes = _mermaid_styles()
    machine.machine_attributes = {"rankdir": "TB"}  # a decision tree reads top to bottom
    graph: Any = machine.graph_cls(machine)
    for step_id, step in flow.steps.items():
        graph.set_node_style(step_id, step.kind)
    lines: list[str] = graph.get_graph().source.splitlines()
    # transitions writes the title as bare front matter and `Class`; Mermaid wants `title:` and `class`,
    # and an arrow without a label must not end in a colon.
    lines[1] = "title: " + json.dumps(lines[1])
    lines = [_mermaid_line(line) for line in lines]
    lines += [
        f"  {step_id} --> [*]" for step_id, step in flow.steps.items() if step.kind in ("end", "escalate")
    ]
    return "\n".join(lines) + "\n"


def _mermaid_line(line: str) -> str:
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith("Class "):
        return indent + "class " + stripped[len("Class ") :]
    if not stripped:
        return ""
    line = line.rstrip()
    return line.removesuffix(":").rstrip() if " --> " in line else line


def to_dot(flow: Drawable) -> str:
    """Graphviz DOT text, written here so it needs no Python Graphviz binding."""
    lines = [
        f"digraph {_dot_id(flow.id)} {{",
        f"  label={_dot_str(f'{flow.title} ({flow.id} v{flow.version})')}; labelloc=t; rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  __start [shape=circle, label="", width=0.2, style=filled, fillcolor=black];',
        f"  __start -> {_dot_id(flow.start)};",
    ]
    for step_id, step in flow.steps.items():
        fill, stroke, text = KIND_COLOURS[step.kind]
        shape = ", shape=diamond" if step.kind == "branch" else ""
        lines.append(
            f"  {_dot_id(step_id)} [label={_dot_str(_node_label(flow, step_id))}, "
            f'fillcolor="{fill}", color="{stroke}", fontcolor="{text}"{shape}];'
        )
    for arrow in arrows(flow):
        label = f" [label={_dot_str(arrow.label)}]" if arrow.label else ""
        lines.append(f"  {_dot_id(arrow.source)} -> {_dot_id(arrow.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(flow: Drawable) -> str:
    """SVG through Graphviz's `dot` program; a clear error when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError(
            "SVG needs Graphviz's `dot` program, which is not installed here; install Graphviz "
            "(apt install graphviz, brew install graphviz), or use --format mermaid (GitHub and "
            "mermaid.live draw it) or --format dot"
        )
    done = subprocess.run(  # noqa: S603 - a fixed program found on PATH, the flow goes in on stdin
        [dot, "-Tsvg"], input=to_dot(flow), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise DiagramError(f"Graphviz failed to draw the flow: {done.stderr.strip()}")
    return done.stdout


def render(flow: Drawable, fmt: str) -> str:
    if fmt == "mermaid":
        return to_mermaid(flow)
    if fmt == "dot":
        return to_dot(flow)
    if fmt == "svg":
        return to_svg(flow)
    raise DiagramError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _node_label(flow: Drawable, step_id: str) -> str:
    step = flow.steps[step_id]
    spec = step.spec
    detail = {
        "probe": f"check {spec.probe}",
        "call": f"subflow {spec.call}",
        "end": f"end: {spec.end}",
        "escalate": "escalate",
    }.get(step.kind)
    return f"{step_id} ({detail})" if detail else step_id


def _mermaid_styles() -> dict[str, Any]:
    node = {
        kind: {"fillcolor": fill, "stroke": stroke, "color": text}
        for kind, (fill, stroke, text) in KIND_COLOURS.items()
    }
    node["default"] = {"fillcolor": "#ffffff", "stroke": "#000000", "color": "#000000"}
    return {"node": node, "edge": {"default": {}}, "graph": {"default": {}}}


def _clean(label: str) -> str:
    """Edge text that Mermaid and DOT both take: one line, no quotes, `{{ x }}` shown as `x`."""
    label = re.sub(r"\{\{\s*(.*?)\s*\}\}", r"\1", label)
    label = label.replace('"', "'").replace(";", ",").replace("#", "no.")
    return " ".join(label.split())[:60]


def _dot_id(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
