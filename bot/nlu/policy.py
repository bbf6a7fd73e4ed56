"""Decides what a typed answer to a question means: route to a choice, check the guess first, or ask again."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.nlu.classifier import QuestionClassifier, Scores
from bot.nlu.entities import Entities, extract
from bot.nlu.matcher import Option, match, match_exact, normalize
from bot.nlu.signals import SignalHit, SignalTable, verdict

# Up to this many words an answer reads like a button ("password", "too big"): the word matcher
# decides. A longer message describes a situation, and synonyms found inside it are only hints
# ("my outlook fails, messages sit in the outbox" is not surely a firewall problem).
SHORT_ANSWER_WORDS = 4
DEFAULT_DIRECT = 0.6
DEFAULT_CONFIRM = 0.3
# A route also needs the best choice this far ahead of the runner-up: two likely causes are a
# question for the customer, not a guess.
DIRECT_MARGIN = 0.25
UNCLEAR = "_unclear"  # the class of messages that name no answer; never a choice id (those start a-z)

Action = Literal["route", "confirm", "reask"]


@dataclass(frozen=True)
class Thresholds:
    direct: float = DEFAULT_DIRECT
    confirm: float = DEFAULT_CONFIRM


@dataclass(frozen=True)
class Decision:
    """What the bot does with one typed answer, and why (for `flows explain` and the missed list)."""

    action: Action
    choice: str | None
    reason: str  # one plain phrase: "signal 5.7.8", "classifier 0.82", "matched words", ...
    score: float | None = None
    entities: Entities = field(default_factory=Entities)
    signals: tuple[SignalHit, ...] = ()
    scores: Scores | None = None


@dataclass(frozen=True)
class Example:
    """One training text for a choice."""

    choice: str
    text: str


class Understander:
    """One question's understanding: word matcher, signals and classifier, under its thresholds."""

    def __init__(
        self,
        options: Sequence[Option],
        signals: SignalTable,
        examples: Sequence[Example],
        thresholds: Thresholds,
        numbered: int | None = None,
        direct_for: dict[str, float] | None = None,
    ) -> None:
        self.options = tuple(options)
        self.signals = signals
        self.thresholds = thresholds
        self.numbered = numbered
        self.examples = tuple(examples)
        self.direct_for = dict(direct_for or {})  # choices that ask for more certainty than the question
        self.classifier = train(tuple(examples)) if examples else None

    def decide(self, text: str, entities: Entities | None = None) -> Decision:
        """What to do with `text`; `entities` are `extract(text)` when the caller has them already."""
        if entities is None:
            entities = extract(text)
        hits = tuple(self.signals.find(text, entities)) if self.signals else ()
        exact = match_exact(text, self.options, self.numbered)
        if exact is not None:
            return Decision("route", exact, "the answer's words", None, entities, hits)
        winner, tied = verdict(hits)
        if winner is not None:
            strongest = next(h for h in hits if h.choice == winner)
            return Decision("route", winner, f"signal {strongest.signal}", None, entities, hits)
        short = len(normalize(text).split()) <= SHORT_ANSWER_WORDS
        worded = (
            match(text, self.options, numbered=self.numbered) if self.classifier is None or short else None
        )
        if self.classifier is None:
            if worded is not None:
                return Decision("route", worded, "the answer's words", None, entities, hits)
            return Decision("reask", None, "no choice matched", None, entities, hits)
        scores = self.classifier.scores(text)
        if worded is not None and not tied:
            # A short answer naming a choice routes, unless the classifier is sure of another one.
            top = scores.best[0]
            if top in (worded, UNCLEAR) or scores.of(worded) >= self.thresholds.confirm:
                return Decision(
                    "route", worded, "the answer's words", scores.of(worded), entities, hits, scores
                )
            why = f"the words say {worded}, the classifier says {top}"
            return Decision("confirm", worded, why, scores.of(worded), entities, hits, scores)
        if tied:
            # Signals of equal strength name several choices: the classifier picks among them,
            # and the customer confirms, since the evidence disagrees.
            best = max(tied, key=scores.of)
            why = f"signals of {', '.join(tied)} disagree; the classifier prefers {best}"
            return Decision("confirm", best, why, scores.of(best), entities, hits, scores)
        choice, score = scores.best
        if choice == UNCLEAR:
            runner_up = scores.ranked[1]
            why = f"names no answer ({score:.2f})"
            return Decision("reask", runner_up[0], why, runner_up[1], entities, hits, scores)
        if (
            score >= max(self.thresholds.direct, self.direct_for.get(choice, 0.0))
            and scores.margin >= DIRECT_MARGIN
        ):
            return Decision("route", choice, f"classifier {score:.2f}", score, entities, hits, scores)
        if score >= self.thresholds.confirm:
            return Decision(
                "confirm", choice, f"classifier {score:.2f}, not sure", score, entities, hits, scores
            )
        hinted = match(text, self.options, numbered=self.numbered)
        if hinted is not None:
            why = f"words of {hinted}; classifier unsure ({score:.2f})"
            return Decision("confirm", hinted, why, scores.of(hinted), entities, hits, scores)
        return Decision("reask", choice, f"classifier unsure ({score:.2f})", score, entities, hits, scores)


@functools.lru_cache(maxsize=64)
def train(examples: tuple[Example, ...]) -> QuestionClassifier:
    """One classifier per distinct training set: a flow version reloaded unchanged reuses its model."""
    return QuestionClassifier([e.text for e in examples], [e.choice for e in examples])
