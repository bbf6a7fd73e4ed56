"""The flow format as pydantic models: what a support lead may write in a flow file, and nothing else."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.flows.shapes import (
    FLOW_ID,
    SLOT_NAME,
    STEP_ID,
    ArmReading,
    ChoiceReading,
    StepReading,
    arm_problem,
    step_problem,
    thresholds_problem,
    version_problem,
)

STEP_KINDS = ("ask", "probe", "branch", "escalate", "end", "call", "say")

StepId = Annotated[str, Field(pattern=STEP_ID, description="A step id: lower case, digits, _")]
SlotName = Annotated[str, Field(pattern=SLOT_NAME, description="A slot name: lower case, digits, _")]
Text = Annotated[str, Field(min_length=1, description="Text; {{ slot }} and {{ variable }} fill in")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SignalSpec(_Strict):
    """Error signatures that name a choice with near certainty when they appear in what a customer typed."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, defer_build=True)

    codes: list[str] = Field(
        default_factory=list,
        description="SMTP reply codes (535), enhanced status codes (5.7.8) and mail-client codes (0x800CCC92)",
    )
    patterns: list[str] = Field(
        default_factory=list,
        description="Text patterns in RE2 syntax (linear time), matched case-insensitively",
    )

    @field_validator("codes", mode="before")
    @classmethod
    def _hex_codes(cls, value: Any) -> Any:
        # YAML reads an unquoted 0x800CCC0E as the number 2148322318: write it back as it was typed.
        if isinstance(value, list):
            return [f"0x{v:08X}" if isinstance(v, int) and v > 0xFFFF else v for v in value]
        return value


class ChoiceSpec(ChoiceReading, _Strict):
    """One button of a question; typed answers match its label, id or synonyms."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, defer_build=True)

    label: Text
    id: Annotated[str, Field(pattern=SLOT_NAME)] | None = Field(
        default=None, description="Stable id for the choice (default: made from the label)"
    )
    synonyms: list[str] = Field(default_factory=list, description="Words a customer may type")
    examples: list[str] = Field(
        default_factory=list, description="Whole messages in customers' words; they train the classifier"
    )
    signals: SignalSpec | None = Field(default=None, description="Error codes and patterns that name it")
    confirm: str | None = Field(
        default=None,
        description="How the bot names this answer when it checks a guess: 'It sounds like <confirm>.'",
    )
    hidden: bool = Field(default=False, description="Understood when typed, but not shown as a button")
    direct: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Route here without asking only at this classifier score (above the question's)",
    )
    next: StepId = Field(description="The step this choice leads to")
    set: dict[SlotName, Any] = Field(default_factory=dict, description="Slots to set when chosen")


class BranchCase(ArmReading, _Strict):
    """One arm of a branch: `if` a condition holds go to `next`; a final arm has `else` instead."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    if_: str | None = Field(default=None, alias="if", description="Condition, e.g. port25.status == 'pass'")
    else_: StepId | None = Field(default=None, alias="else", description="Where to go when nothing matched")
    next: StepId | None = None

    @model_validator(mode="after")
    def _one_form(self) -> BranchCase:
        problem = arm_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class UnderstandingSpec(_Strict):
    """How sure the question's classifier must be: route at `direct`, check the guess at `confirm`."""

    direct: float = Field(default=0.6, gt=0, le=1, description="Route without asking at this score")
    confirm: float = Field(
        default=0.3, gt=0, le=1, description="Ask 'Is that right?' at this score; below it, re-ask"
    )
    unclear: list[str] = Field(
        default_factory=list,
        description="Messages that name none of the answers ('it doesn't work'): the bot asks again",
    )

    @model_validator(mode="after")
    def _ordered(self) -> UnderstandingSpec:
        problem = thresholds_problem(self.direct, self.confirm)
        if problem:
            raise ValueError(problem)
        return self


class StepSpec(StepReading, _Strict):
    """A step: exactly one of ask / probe / branch / escalate / end / call, or just `say` and `next`."""

    say: Text | list[Text] | None = Field(default=None, description="Message(s) sent on entering")
    # ask
    ask: Text | None = Field(default=None, description="The question")
    choices: list[ChoiceSpec] | None = None
    slot: SlotName | None = Field(default=None, description="Save a typed answer in this slot")
    validate_: Literal["domain", "email", "ip", "number", "yes_no", "text"] | None = Field(
        default=None, alias="validate", description="How a typed answer is checked"
    )
    hint: str | None = Field(default=None, description="Placeholder shown in the text box")
    max_tries: int = Field(default=3, ge=1, le=10, description="Invalid answers before on_invalid")
    on_invalid: StepId | None = Field(default=None, description="Where to go after max_tries")
    skip_if_known: bool = Field(
        default=False, description="Skip the question when its slot already holds a value"
    )
    understanding: UnderstandingSpec | None = Field(
        default=None, description="Thresholds for typed answers understood by the classifier"
    )
    # probe
    probe: str | None = Field(default=None, description="The check to run, e.g. smtp_587")
    args: dict[str, str] = Field(default_factory=dict, description="Probe arguments, templated")
    save_as: SlotName | None = Field(default=None, description="Slot that keeps the probe result")
    outcomes: dict[str, StepId] | None = Field(
        default=None, description="Next step per result: pass, warn, fail, unknown, default"
    )
    # branch
    branch: list[BranchCase] | None = None
    # escalate / end / call
    escalate: Text | None = Field(default=None, description="Why a human is needed")
    end: Literal["resolved", "unresolved"] | None = None
    call: Annotated[str, Field(pattern=FLOW_ID)] | None = Field(default=None, description="Flow id")
    on_unresolved: StepId | None = Field(default=None, description="After a call ends unresolved")
    # common
    next: StepId | None = None
    max_visits: int | None = Field(default=None, ge=1, le=100, description="Loop cap for this step")
    on_max_visits: StepId | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> StepSpec:
        problem = step_problem(self)
        if problem:
            raise ValueError(problem)
        return self


class FlowSpec(_Strict):
    """A whole flow file."""

    id: Annotated[str, Field(pattern=FLOW_ID, description="Flow id, e.g. cant-send-email")]
    title: Text
    version: int | str = Field(description="Bump when you change the flow")
    description: str | None = None
    start: StepId = Field(description="The first step")
    variables: dict[SlotName, Any] = Field(
        default_factory=dict, description="Provider facts: SMTP host, panel name, limits"
    )
    inputs: list[SlotName] = Field(
        default_factory=list, description="Slots a channel may fill at the start (e.g. client_ip)"
    )
    entities: dict[Literal["domain", "email", "ip", "dnsbl", "codes"], SlotName] = Field(
        default_factory=dict,
        description="Slots filled from what customers type or paste: domain, email, ip, dnsbl, codes",
    )
    on_human: StepId | None = Field(default=None, description="Step taken when the customer asks for a human")
    migrate: dict[StepId, StepId] = Field(
        default_factory=dict, description="Old step id -> new step id for conversations in progress"
    )
    steps: dict[StepId, StepSpec]

    @field_validator("version")
    @classmethod
    def _version_text(cls, value: int | str) -> int | str:
        problem = version_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("steps")
    @classmethod
    def _has_steps(cls, value: dict[str, StepSpec]) -> dict[str, StepSpec]:
        if not value:
            raise ValueError("a flow needs at least one step")
        return value
