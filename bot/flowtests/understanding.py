"""Measures a flow's understanding on labelled test messages, like `rasa test nlu`: per question and kind."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import FlowError, Location
from bot.flows.yamlsafe import read_document
from bot.nlu.policy import Decision, Example, Understander

UNCLEAR = "unclear"  # the label of a message that names no cause: the bot must ask, never fix
Outcome = Literal["direct", "confirmed", "asked", "wrong"]
KINDS = ("pasted", "words")


class Targets(BaseModel):
    """What the evaluation must reach; `flows test` fails below it."""

    model_config = ConfigDict(extra="forbid")
    pasted: float = Field(default=0.95, ge=0, le=1, description="Pasted errors routed right (share)")
    words: float = Field(default=0.85, ge=0, le=1, description="Own-words messages routed right (share)")
    wrong: float = Field(default=0.02, ge=0, le=1, description="Most wrong fixes allowed (share)")


class Block(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str
    expect: str = Field(description="The choice id that is right, or 'unclear'")
    pasted: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)


class NluSuite(BaseModel):
    """A file of labelled test messages: flows/tests/<flow>.nlu.yaml."""

    model_config = ConfigDict(extra="forbid")
    flow: str
    asks: list[str] = Field(
        default_factory=list,
        description="Choices that only ask a follow-up question (no fix): right for unclear messages",
    )
    targets: Targets | None = None
    tests: list[Block]


@dataclass(frozen=True)
class Result:
    step: str
    kind: str
    text: str
    expect: str
    decision: Decision
    outcome: Outcome


@dataclass
class Tally:
    """Counts for one group of messages."""

    total: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.total += 1
        self.outcomes[outcome] += 1

    @property
    def right(self) -> int:
        return self.outcomes["direct"] + self.outcomes["confirmed"]

    def share(self, what: str = "right") -> float:
        count = self.right if what == "right" else self.outcomes[what]
        return count / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "right": self.right,
            "accuracy": round(self.share(), 4),
            **{o: self.outcomes[o] for o in ("direct", "confirmed", "asked", "wrong")},
        }


@dataclass
class Report:
    """The evaluation of one suite: every result, tallies per question and kind, the confusions."""

    flow: str
    results: list[Result]
    targets: Targets

    def tally(self, step: str | None = None, kind: str | None = None, unclear: bool | None = None) -> Tally:
        """Outcomes of the messages of one question and kind; `unclear` picks cause or no-cause lines."""
        tally = Tally()
        for r in self.results:
            if (
                (step is None or r.step == step)
                and (kind is None or r.kind == kind)
                and (unclear is None or (r.expect == UNCLEAR) == unclear)
            ):
                tally.add(r.outcome)
        return tally

    def unclear(self, step: str | None = None) -> Tally:
        return self.tally(step, unclear=True)

    def causes(self, kind: str, step: str | None = None) -> Tally:
        return self.tally(step, kind, unclear=False)

    def steps(self) -> list[str]:
        return list(dict.fromkeys(r.step for r in self.results))

    def confusions(self, step: str) -> list[tuple[str, str, int]]:
        """(expected, got, count) for wrong routes and wrong guesses, most frequent first."""
        pairs = Counter(
            (r.expect, str(r.decision.choice))
            for r in self.results
            if r.step == step
            and r.decision.choice not in (None, r.expect)
            and r.outcome != "direct"
            and (r.outcome == "wrong" or r.decision.action != "reask")
        )
        return [(e, g, n) for (e, g), n in pairs.most_common()]

    def failures(self) -> list[str]:
        """The targets missed, as sentences; empty when every target is met."""
        missed = []
        for kind, goal in (("pasted", self.targets.pasted), ("words", self.targets.words)):
            tally = self.causes(kind)
            if tally.total and tally.share() < goal:
                missed.append(f"{kind}: {tally.share():.1%} routed right, the target is {goal:.0%}")
        everything = self.tally()
        if everything.total and everything.share("wrong") > self.targets.wrong:
            missed.append(
                f"wrong fixes: {everything.share('wrong'):.1%}, the target is at most {self.targets.wrong:.0%}"
            )
        unclear = self.unclear()
        if unclear.outcomes["wrong"]:
            missed.append(f"unclear messages: {unclear.outcomes['wrong']} got a fix instead of a question")
        return missed

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "overall": self.tally().to_json(),
            "kinds": {kind: self.causes(kind).to_json() for kind in KINDS},
            "unclear": self.unclear().to_json(),
            "questions": {
                step: {
                    "overall": self.tally(step).to_json(),
                    **{kind: self.causes(kind, step).to_json() for kind in KINDS},
                    "unclear": self.unclear(step).to_json(),
                    "confusions": [
                        {"expected": e, "got": g, "count": n} for e, g, n in self.confusions(step)
                    ],
                }
                for step in self.steps()
            },
            "targets": self.targets.model_dump(),
            "failures": self.failures(),
        }


def load_suite(path: Path) -> NluSuite:
    doc = read_document(path.read_text(encoding="utf-8"), str(path))
    try:
        return NluSuite.model_validate(doc.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FlowError.at(Location(str(path)), f"{where}: {first['msg']}") from None


def outcome(decision: Decision, expect: str, asks: Iterable[str]) -> Outcome:
    """How a decision counts: right directly, right after a confirmation, asked again, or a wrong fix."""
    follow_up = set(asks)
    if expect == UNCLEAR:
        routed_to_fix = decision.action == "route" and decision.choice not in follow_up
        return "wrong" if routed_to_fix else "asked"
    if decision.choice == expect and decision.action == "route":
        return "direct"
    if decision.choice == expect and decision.action == "confirm":
        return "confirmed"
    if decision.action == "route" and decision.choice not in follow_up:
        return "wrong"
    return "asked"  # re-asked, a wrong guess the customer turns down, or a follow-up question


def evaluate(suite: NluSuite, understanders: dict[str, Understander]) -> Report:
    """Run every labelled message of `suite` through its question's understanding."""
    results: list[Result] = []
    for block in suite.tests:
        understander = understanders.get(block.step)
        if understander is None:
            known = ", ".join(sorted(understanders)) or "none"
            raise FlowError.at(
                Location(suite.flow),
                f"step `{block.step}` is not a question with choices (questions: {known})",
            )
        for kind in KINDS:
            for text in getattr(block, kind):
                decision = understander.decide(text)
                results.append(
                    Result(
                        block.step,
                        kind,
                        text,
                        block.expect,
                        decision,
                        outcome(decision, block.expect, suite.asks),
                    )
                )
    return Report(suite.flow, results, suite.targets or Targets())


def cross_validate(understander: Understander, examples: Sequence[Example], folds: int = 5) -> Tally:
    """k-fold cross-validation of a question's examples: each fold classified by a model trained without it.

    Labels and synonyms always stay in training (they are what the buttons say); only `examples:`
    are held out, shuffled with a fixed seed so the numbers are repeatable.
    """
    terms = {t for o in understander.options for t in o.terms}
    held = [e for e in examples if e.text not in terms]
    fixed = [e for e in examples if e.text in terms]
    random.Random(13).shuffle(held)
    tally = Tally()
    for k in range(folds):
        test = held[k::folds]
        train = fixed + [e for i, e in enumerate(held) if i % folds != k]
        if not test or len({e.choice for e in train}) < 2:
            continue
        trained = Understander(
            understander.options,
            understander.signals,
            train,
            understander.thresholds,
            numbered=understander.numbered,
            direct_for=understander.direct_for,
        )
        for example in test:
            tally.add(outcome(trained.decide(example.text), example.choice, ()))
    return tally
