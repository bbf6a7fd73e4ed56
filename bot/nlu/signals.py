"""Error signatures per choice: codes and RE2 patterns that name a choice with near certainty."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import re2

if TYPE_CHECKING:  # only named in annotations; `flows check` compiles no entity patterns
    from bot.nlu.entities import Entities

_SPACES = re.compile(r"\s+")
MAX_PATTERN_CHARS = 500
PATTERN_FLAGS = "(?i)"  # what a pattern is compiled with: case-insensitive

# How much one kind of signal says. A pattern and a mail client's code each name one failure;
# an enhanced status code narrows it (5.7.8 is bad credentials); a bare reply code only hints
# (550 is used for a dozen failures), so it never outvotes a pattern of another choice.
PATTERN, CLIENT_CODE, ENHANCED_CODE, REPLY_CODE = 3, 3, 2, 1
_SHAPES = (
    (re.compile(r"^[2-5][0-5]\d$"), REPLY_CODE),
    (re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$"), ENHANCED_CODE),
    (re.compile(r"^0x8[0-9A-F]{7}$"), CLIENT_CODE),
)
CODE_SHAPES = (
    "an SMTP reply code like 535, an enhanced status code like 5.7.8, or a client code like 0x800CCC92"
)


class SignalError(ValueError):
    """A code or pattern written in a flow that cannot be used; the message says how to fix it."""


@dataclass(frozen=True)
class SignalHit:
    """One signature found in a message: which choice it names, what matched, and how strongly."""

    choice: str
    signal: str
    strength: int


def code_strength(code: str) -> int:
    """The strength of a code written in a flow, or SignalError when it has no known shape."""
    for shape, strength in _SHAPES:
        if shape.match(normalize_code(code)):
            return strength
    raise SignalError(f"`{code}` is not a code supportbot can read; write {CODE_SHAPES}, or use `patterns:`")


def normalize_code(code: str) -> str:
    code = code.strip()
    return "0x" + code[2:].upper() if code.lower().startswith("0x") else code


def compile_pattern(pattern: str) -> re2._Regexp:
    """A support lead's pattern in RE2 syntax: linear time on any input, case-insensitive."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise SignalError(
            f"this pattern is {len(pattern)} characters; keep patterns under {MAX_PATTERN_CHARS}"
        )
    try:
        return re2.compile(PATTERN_FLAGS + pattern)
    except re2.error:
        pass
    try:  # Python's own parser names a syntax mistake in words a support lead can act on
        re.compile(pattern)
    except re.error as exc:
        why = f"{exc.msg} at position {exc.pos}"
    else:
        why = "it uses a feature RE2 does not have, such as a backreference or a lookaround"
    raise SignalError(
        f"the pattern `{pattern}` does not compile: {why}; patterns use RE2 syntax (no backreferences or "
        "lookarounds; escape a literal dot as \\.)"
    )


@dataclass(frozen=True)
class _ChoiceSignals:
    choice: str
    codes: dict[str, int]
    patterns: tuple[tuple[str, re2._Regexp], ...]


def _pattern_set(sources: Sequence[str]) -> re2.Set | None:
    """One RE2 set of every pattern, or None when RE2 cannot build it within its memory budget.

    A question has about a hundred patterns, and asking each one in turn cost ~2 µs of Python
    wrapper per pattern (encoding the text, the match generator) on every typed answer. A set
    runs them all in one pass over the text and names every pattern that matches anywhere: the
    same answer as searching with each. Compiling the set also checks that its DFA has the
    memory to run, since a set cannot fall back to the slower matcher.
    """
    if not sources:
        return None
    patterns = re2.Set.SearchSet()
    for source in sources:
        patterns.Add(PATTERN_FLAGS + source)
    try:
        patterns.Compile()
    except re2.error:
        return None
    return patterns


class SignalTable:
    """Every choice's signals for one question, compiled once per flow version."""

    def __init__(self, choices: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> None:
        self._choices = tuple(
            _ChoiceSignals(
                choice=key,
                codes={normalize_code(c): code_strength(c) for c in codes},
                patterns=tuple((p, compile_pattern(p)) for p in patterns),
            )
            for key, codes, patterns in choices
        )
        # Each pattern's number in the set, in the order `find` reports hits.
        self._numbered = tuple(
            (at, source, pattern)
            for at, choice in enumerate(self._choices)
            for source, pattern in choice.patterns
        )
        self._set = _pattern_set([source for _, source, _ in self._numbered])

    def __bool__(self) -> bool:
        return any(c.codes or c.patterns for c in self._choices)

    def find(self, text: str, entities: Entities) -> list[SignalHit]:
        """Every signal in the message, strongest first."""
        flat = _SPACES.sub(" ", text)  # a pasted bounce wraps lines anywhere
        found = set(entities.codes)
        matched = self._matched(flat)
        hits: list[SignalHit] = []
        for at, choice in enumerate(self._choices):
            for code, strength in choice.codes.items():
                if code in found:
                    hits.append(SignalHit(choice.choice, code, strength))
            hits.extend(SignalHit(choice.choice, source, PATTERN) for source in matched.get(at, ()))
        hits.sort(key=lambda h: -h.strength)
        return hits

    def _matched(self, flat: str) -> dict[int, list[str]]:
        """The patterns found in the text, by the choice's place, in the order they were written."""
        if self._set is not None:
            hits = [self._numbered[n] for n in sorted(self._set.Match(flat) or ())]
        else:
            hits = [entry for entry in self._numbered if entry[2].search(flat)]
        matched: dict[int, list[str]] = {}
        for at, source, _ in hits:
            matched.setdefault(at, []).append(source)
        return matched


def verdict(hits: Sequence[SignalHit]) -> tuple[str | None, list[str]]:
    """The choice the signals name (or None), and the choices tied for the strongest evidence.

    A choice wins only when its strongest signal is stronger than every other choice's: two
    choices with equally strong signals contradict each other, and the classifier decides.
    """
    if not hits:
        return None, []
    strongest: dict[str, int] = {}
    for hit in hits:
        strongest[hit.choice] = max(strongest.get(hit.choice, 0), hit.strength)
    top = max(strongest.values())
    tied = [choice for choice, strength in strongest.items() if strength == top]
    return (tied[0] if len(tied) == 1 else None), tied
