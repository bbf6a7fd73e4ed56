"""What checks read from a parsed flow, and the format's cross-field rules, without pydantic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

# The pydantic models (bot.flows.model) and the fast reader (bot.flows.plain) both have these shapes, so
# the checks, the lint and the graph read either; the rules below are the ones both enforce.

STEP_ID = r"^[a-z][a-z0-9_]*$"
FLOW_ID = r"^[a-z][a-z0-9-]*$"
SLOT_NAME = r"^[a-z][a-z0-9_]*$"
VALIDATORS = ("domain", "email", "ip", "number", "yes_no", "text")
ENTITY_KINDS = ("domain", "email", "ip", "dnsbl", "codes")
OUTCOMES = ("pass", "warn", "fail", "unknown", "skipped")
KINDS = ("ask", "probe", "branch", "escalate", "end", "call")


class SignalsShape(Protocol):
    @property
    def codes(self) -> Sequence[str]: ...
    @property
    def patterns(self) -> Sequence[str]: ...


class ChoiceShape(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def id(self) -> str | None: ...
    @property
    def synonyms(self) -> Sequence[str]: ...
    @property
    def examples(self) -> Sequence[str]: ...
    @property
    def signals(self) -> SignalsShape | None: ...
    @property
    def hidden(self) -> bool: ...
    @property
    def next(self) -> str: ...
    @property
    def set(self) -> Mapping[str, Any]: ...
    @property
    def key(self) -> str: ...


class ArmShape(Protocol):
    @property
    def if_(self) -> str | None: ...
    @property
    def else_(self) -> str | None: ...
    @property
    def next(self) -> str | None: ...
    @property
    def target(self) -> str: ...


class StepShape(Protocol):
    @property
    def say(self) -> str | Sequence[str] | None: ...
    @property
    def ask(self) -> str | None: ...
    @property
    def choices(self) -> Sequence[ChoiceShape] | None: ...
    @property
    def slot(self) -> str | None: ...
    @property
    def validate_(self) -> str | None: ...
    @property
    def hint(self) -> str | None: ...
    @property
    def max_tries(self) -> int: ...
    @property
    def on_invalid(self) -> str | None: ...
    @property
    def skip_if_known(self) -> bool: ...
    @property
    def understanding(self) -> object | None: ...
    @property
    def probe(self) -> str | None: ...
    @property
    def args(self) -> Mapping[str, str]: ...
    @property
    def save_as(self) -> str | None: ...
    @property
    def outcomes(self) -> Mapping[str, str] | None: ...
    @property
    def branch(self) -> Sequence[ArmShape] | None: ...
    @property
    def escalate(self) -> str | None: ...
    @property
    def end(self) -> str | None: ...
    @property
    def call(self) -> str | None: ...
    @property
    def on_unresolved(self) -> str | None: ...
    @property
    def next(self) -> str | None: ...
    @property
    def max_visits(self) -> int | None: ...
    @property
    def on_max_visits(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def messages(self) -> list[str]: ...


class FlowShape(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def start(self) -> str: ...
    @property
    def variables(self) -> Mapping[str, Any]: ...
    @property
    def inputs(self) -> Sequence[str]: ...
    @property
    def entities(self) -> Mapping[Any, str]: ...
    @property
    def on_human(self) -> str | None: ...
    @property
    def migrate(self) -> Mapping[str, str]: ...
    @property
    def steps(self) -> Mapping[str, StepShape]: ...


class StepReading:
    """What a step's fields imply: its kind and its messages (for the models and the plain reader)."""

    __slots__ = ()

    @property
    def kind(self: StepShape) -> str:
        for kind in KINDS:
            if getattr(self, kind):
                return kind
        return "say"

    @property
    def messages(self: StepShape) -> list[str]:
        if self.say is None:
            return []
        return [self.say] if isinstance(self.say, str) else list(self.say)


class ChoiceReading:
    __slots__ = ()

    @property
    def key(self: ChoiceShape) -> str:
        return self.id or slugify(self.label)


class ArmReading:
    __slots__ = ()

    @property
    def target(self: ArmShape) -> str:
        return self.else_ if self.else_ is not None else str(self.next)


def slugify(label: str) -> str:
    """A choice id made from its label: 'Yes, it works!' -> 'yes_it_works'."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return slug[:40] or "choice"


_WHY_NO_NEXT = {
    "escalate": "the conversation goes to a human",
    "end": "the conversation ends here",
    "branch": "each arm names its own next step",
    "probe": "`outcomes:` names the next step per result",
}


def step_problem(step: StepShape) -> str | None:
    """What breaks the rule that a step does exactly one thing, with what that thing needs; None if nothing."""
    present = [k for k in KINDS if getattr(step, k)]
    if len(present) > 1:
        return f"a step does one thing, but this one has {' and '.join(present)}; split it into two steps"
    kind = present[0] if present else "say"
    if kind == "say" and step.say is None:
        return "a step needs one of: say, ask, probe, branch, escalate, end, call"
    if kind == "ask" and not step.choices and not step.slot:
        return "a question needs `choices:` (buttons) or `slot:` (a typed answer), or both"
    if kind == "ask" and step.slot and not step.next:
        return "a question with `slot:` needs `next:` (where to go after a valid answer)"
    if kind in ("say", "call") and not step.next:
        return f"a `{kind}` step needs `next:` (the step that follows)"
    if kind == "probe":
        if not step.outcomes:
            return "a probe step needs `outcomes:` mapping pass/warn/fail/unknown to steps"
        bad = [k for k in step.outcomes if k not in (*OUTCOMES, "default")]
        if bad:
            return f"unknown outcome {bad[0]!r}; use pass, warn, fail, unknown, skipped or default"
    if kind in ("escalate", "end", "branch", "probe") and step.next:
        return f"a `{kind}` step takes no `next:`; " + _WHY_NO_NEXT[kind]
    if step.skip_if_known and not step.slot:
        return "`skip_if_known:` applies to a question with `slot:`"
    if step.understanding and not step.choices:
        return "`understanding:` applies to a question with `choices:`"
    if step.validate_ and not step.slot:
        return "`validate:` applies to a typed answer; add `slot:` to keep it"
    if step.max_visits and not step.on_max_visits:
        return "`max_visits:` needs `on_max_visits:` (where to go when the cap is reached)"
    return None


def arm_problem(arm: ArmShape) -> str | None:
    """An arm is `if` + `next`, or `else` alone."""
    if arm.else_ is not None:
        if arm.if_ is not None or arm.next is not None:
            return "an `else` arm stands alone: write `- else: step_id`"
    elif arm.if_ is None or arm.next is None:
        return "a branch arm needs `if: <condition>` and `next: <step>`, or `else: <step>`"
    return None


def thresholds_problem(direct: float, confirm: float) -> str | None:
    """A guess is confirmed only when it is less sure than a direct route."""
    if confirm > direct:
        return (
            f"`confirm` ({confirm}) must not be above `direct` ({direct}); "
            "a guess is confirmed when it is less sure than a direct route"
        )
    return None


def version_problem(value: int | str) -> str | None:
    if isinstance(value, str) and not value.strip():
        return "version must not be empty; write e.g. 1 or '2024-06'"
    return None
