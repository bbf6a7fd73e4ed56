"""The edges of a flow as plain data: who can go where and on what, shared by validation, compilation and diagrams."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.shapes import OUTCOMES, FlowShape, StepShape
from bot.flows.yamlsafe import Path


@dataclass(frozen=True)
class Edge:
    """A way out of `source`: `trigger` fires it, `label` explains it, `path` locates it in the file."""

    source: str
    trigger: str
    target: str
    label: str
    path: Path
    sets: frozenset[str] = frozenset()  # slots set when taking this edge
    condition: str | None = None  # branch condition, in order of the arms


def step_edges(step_id: str, step: StepShape) -> list[Edge]:
    """Every edge leaving one step, in the order the engine tries them."""
    base: Path = ("steps", step_id)
    edges: list[Edge] = []
    if step.max_visits and step.on_max_visits:
        edges.append(
            Edge(
                step_id,
                "capped",
                step.on_max_visits,
                f"after {step.max_visits} visits",
                (*base, "on_max_visits"),
            )
        )
    kind = step.kind
    if kind == "say":
        edges.append(Edge(step_id, "next", str(step.next), "", (*base, "next")))
    elif kind == "ask":
        for i, choice in enumerate(step.choices or ()):
            edges.append(
                Edge(
                    step_id,
                    f"choice:{choice.key}",
                    choice.next,
                    choice.label,
                    (*base, "choices", i, "next"),
                    frozenset(choice.set),
                )
            )
        if step.slot:
            edges.append(
                Edge(
                    step_id,
                    "answer",
                    str(step.next),
                    f"typed {step.slot}",
                    (*base, "next"),
                    frozenset({step.slot}),
                )
            )
        if step.on_invalid:
            edges.append(
                Edge(
                    step_id,
                    "invalid",
                    step.on_invalid,
                    f"{step.max_tries} unclear answers",
                    (*base, "on_invalid"),
                )
            )
    elif kind == "probe":
        sets = frozenset({step.save_as}) if step.save_as else frozenset()
        outcomes = step.outcomes or {}
        for status in (*OUTCOMES, "default"):
            if status in outcomes:
                edges.append(
                    Edge(
                        step_id,
                        f"outcome:{status}",
                        outcomes[status],
                        status,
                        (*base, "outcomes", status),
                        sets,
                    )
                )
    elif kind == "branch":
        for i, arm in enumerate(step.branch or ()):
            key = "else" if arm.else_ is not None else "next"
            edges.append(
                Edge(
                    step_id,
                    "branch",
                    arm.target,
                    arm.if_ or "otherwise",
                    (*base, "branch", i, key),
                    condition=arm.if_,
                )
            )
    elif kind == "call":
        edges.append(Edge(step_id, "return", str(step.next), f"after {step.call}", (*base, "next")))
        if step.on_unresolved:
            edges.append(
                Edge(
                    step_id,
                    "return_unresolved",
                    step.on_unresolved,
                    f"{step.call} unresolved",
                    (*base, "on_unresolved"),
                )
            )
    return edges


def flow_edges(flow: FlowShape) -> list[Edge]:
    return [edge for step_id, step in flow.steps.items() for edge in step_edges(step_id, step)]


def is_final(step: StepShape) -> bool:
    """Final steps end the conversation (or return from a subflow, or hand over to a human)."""
    return step.kind in ("end", "escalate")
