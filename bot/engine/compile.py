"""Turns a validated flow into a CompiledFlow: templates compiled once and one shared `transitions` machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from transitions import EventData, Machine

from bot.engine.model import Awaiting, Choice
from bot.errors import FlowError, Location
from bot.flows.graph import Edge, flow_edges
from bot.flows.loader import default_catalogue, parse_flow, read_text
from bot.flows.model import FlowSpec, StepSpec
from bot.flows.templates import Predicate, Renderer, TemplateProblem, compile_condition, compile_text
from bot.flows.validate import Catalogue, validate_flow
from bot.nlu.matcher import Option
from bot.nlu.policy import UNCLEAR, Example, Thresholds, Understander
from bot.nlu.signals import SignalTable


@dataclass(frozen=True)
class CompiledChoice:
    key: str
    label: Renderer
    label_source: str
    terms: tuple[str, ...]  # label, id and synonyms, for matching typed answers
    sets: Mapping[str, Any]
    trigger: str  # the machine event that takes this choice
    hidden: bool = False  # understood when typed, never shown as a button
    confirm: Renderer | None = None  # "It sounds like <this>." when the bot checks a guess


@dataclass
class CompiledStep:
    id: str
    kind: str
    spec: StepSpec
    says: tuple[Renderer, ...]
    question: Renderer | None = None
    hint: Renderer | None = None
    choices: tuple[CompiledChoice, ...] = ()
    choice_index: dict[str, CompiledChoice] = field(default_factory=dict)
    args: dict[str, Renderer] = field(default_factory=dict)
    reason: Renderer | None = None
    static_awaiting: Awaiting | None = None  # when no label is templated, built once
    understander: Understander | None = None  # typed answers to a question with choices

    @property
    def shown(self) -> tuple[CompiledChoice, ...]:
        """The choices offered as buttons, in file order."""
        return tuple(c for c in self.choices if not c.hidden)


class _Cursor:
    """The one model attached to a flow's machine; the engine points it at a conversation's step per turn.

    Setting `state` is a plain attribute write, so restoring a conversation costs nothing, and no
    Machine or add_model is needed per turn. Moves are synchronous, so one cursor is safe to share
    between coroutines: nothing awaits between pointing it and triggering.
    """

    state: str


class CompiledFlow:
    """One version of one flow, ready to run: shared by every conversation on that version."""

    def __init__(self, spec: FlowSpec, file: str) -> None:
        self.spec = spec
        self.file = file
        self.id = spec.id
        self.version = str(spec.version)
        self.title = spec.title
        self.start = spec.start
        self.variables: dict[str, Any] = dict(spec.variables)
        self.edges: list[Edge] = flow_edges(spec)
        self.steps: dict[str, CompiledStep] = {sid: _compile_step(sid, s) for sid, s in spec.steps.items()}
        self.cursor = _Cursor()
        self.machine = Machine(
            model=self.cursor,
            states=list(spec.steps),
            initial=spec.start,
            transitions=[self._transition(edge) for edge in self.edges],
            auto_transitions=False,
            send_event=True,
            model_override=False,
        )
        self._events = self.machine.events

    def _transition(self, edge: Edge) -> dict[str, Any]:
        transition: dict[str, Any] = {"trigger": edge.trigger, "source": edge.source, "dest": edge.target}
        if edge.condition is not None:
            predicate = compile_condition(edge.condition)
            transition["conditions"] = [_condition(predicate)]
        return transition

    def move(self, step: str, trigger: str, context: Mapping[str, Any] | None = None) -> str:
        """Take the edge `trigger` out of `step` and return the step it leads to."""
        cursor = self.cursor
        cursor.state = step
        if not self._events[trigger].trigger(cursor, context=context):
            raise LookupError(f"no edge {trigger!r} leaves step {step!r} in flow {self.id}")
        return cursor.state

    def has_edge(self, step: str, trigger: str) -> bool:
        event = self._events.get(trigger)
        return event is not None and step in event.transitions


def _condition(predicate: Predicate) -> Any:
    def check(event: EventData) -> bool:
        return predicate(event.kwargs.get("context") or {})

    return check


def _compile_step(step_id: str, spec: StepSpec) -> CompiledStep:
    step = CompiledStep(
        id=step_id, kind=spec.kind, spec=spec, says=tuple(compile_text(m) for m in spec.messages)
    )
    if spec.kind == "ask":
        step.question = compile_text(str(spec.ask))
        step.hint = compile_text(spec.hint) if spec.hint else None
        step.choices = tuple(
            CompiledChoice(
                key=c.key,
                label=compile_text(c.label),
                label_source=c.label,
                terms=(c.label, c.key.replace("_", " "), *c.synonyms),
                sets=dict(c.set),
                trigger=f"choice:{c.key}",
                hidden=c.hidden,
                confirm=compile_text(c.confirm) if c.confirm else None,
            )
            for c in spec.choices or ()
        )
        step.choice_index = {c.key: c for c in step.choices}
        if step.choices:
            step.understander = _understander(spec, step)
        if step.choices and not any("{" in c.label_source for c in step.shown):
            step.static_awaiting = Awaiting(
                kind="choice", choices=tuple(Choice(c.key, c.label_source) for c in step.shown)
            )
        elif not step.choices and not spec.hint:
            step.static_awaiting = Awaiting(kind="text", hint="")
    if spec.kind == "probe":
        step.args = {name: compile_text(source) for name, source in spec.args.items()}
    if spec.kind == "escalate":
        step.reason = compile_text(str(spec.escalate))
    return step


def _understander(spec: StepSpec, step: CompiledStep) -> Understander:
    """The question's matcher, signals and classifier; buttons first, so numbers pick what is shown."""
    ordered = (*step.shown, *(c for c in step.choices if c.hidden))
    options = [Option(c.key, c.terms) for c in ordered]
    choices = spec.choices or []
    signals = SignalTable(
        (c.key, c.signals.codes if c.signals else (), c.signals.patterns if c.signals else ())
        for c in choices
    )
    # A question is classified once its lead wrote `examples:`; labels and synonyms train it too.
    examples = (
        [
            Example(c.key, text)
            for c in choices
            for text in (c.label, *c.synonyms, *c.examples)
            if text.strip()
        ]
        if any(c.examples for c in choices)
        else []
    )
    limits = spec.understanding
    if examples and limits:
        examples += [Example(UNCLEAR, text) for text in limits.unclear]
    thresholds = Thresholds(limits.direct, limits.confirm) if limits else Thresholds()
    direct_for = {c.key: c.direct for c in choices if c.direct is not None}
    return Understander(
        options, signals, examples, thresholds, numbered=len(step.shown), direct_for=direct_for
    )


def load_flow(text: str, file: str, catalogue: Catalogue | None = None) -> CompiledFlow:
    """Parse, validate and compile one flow; raise FlowError listing every problem."""
    spec, doc = parse_flow(text, file)
    problems = validate_flow(spec, doc, catalogue or default_catalogue())
    if problems:
        raise FlowError(problems)
    try:
        return CompiledFlow(spec, file)
    except TemplateProblem as exc:  # validation compiles every template, so this is a safety net
        raise FlowError.at(Location(file), str(exc)) from None


def load_file(path: FsPath, catalogue: Catalogue | None = None) -> CompiledFlow:
    return load_flow(read_text(path), str(path), catalogue)
