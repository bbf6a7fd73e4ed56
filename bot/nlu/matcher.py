"""Matches what a customer typed to one of the offered choices: number, words, synonyms, or close spelling."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

_WORDS = re.compile(r"[^\w@.]+")
_FUZZY_CUTOFF = 82.0
_FUZZY_MARGIN = 6.0

# Yes/no questions are the most common; customers answer them in many ways, and negation matters
# ("not working" contains "working"), so they get their own small classifier.
_NEGATIVE = frozenset(
    [
        "no",
        "n",
        "nope",
        "nah",
        "not",
        "never",
        "still",
        "fails",
        "failed",
        "failing",
        "doesnt",
        "didnt",
        "dont",
        "isnt",
        "cant",
        "cannot",
        "wont",
        "wasnt",
        "negative",
    ]
)
_POSITIVE = frozenset(
    [
        "yes",
        "y",
        "yeah",
        "yep",
        "yup",
        "sure",
        "ok",
        "okay",
        "works",
        "worked",
        "working",
        "fixed",
        "solved",
        "sorted",
        "correct",
        "right",
        "affirmative",
        "definitely",
        "absolutely",
        "great",
        "perfect",
        "thanks",
    ]
)


@dataclass(frozen=True)
class Option:
    """A choice as the matcher sees it: its id and every phrase that names it."""

    key: str
    terms: tuple[str, ...]


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed, apostrophes dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("'", "").replace("\u2019", "")
    return " ".join(_WORDS.sub(" ", text).split())


# The phrases come from flow files, a small fixed set: each is normalised once, not on every turn.
_phrase = functools.lru_cache(maxsize=8192)(normalize)


def match(text: str, options: Sequence[Option], numbered: int | None = None) -> str | None:
    """The key of the option `text` names, or None when it names none (or several) of them.

    A number picks the option at that place among the first `numbered` (the buttons shown).
    """
    said = normalize(text)
    if not said or not options:
        return None
    exact = _exact(said, options, numbered)
    if exact is not None:
        return exact
    keys = {o.key for o in options}
    if {"yes", "no"} <= keys:
        verdict = _yes_no(said)
        if verdict:
            return verdict
    return _contained(said, options) or _fuzzy(said, options)


def match_exact(text: str, options: Sequence[Option], numbered: int | None = None) -> str | None:
    """Only a number or a whole label or synonym: what a button-like answer looks like."""
    said = normalize(text)
    return _exact(said, options, numbered) if said and options else None


def _exact(said: str, options: Sequence[Option], numbered: int | None) -> str | None:
    shown = len(options) if numbered is None else numbered
    if said.isdigit() and 0 < int(said) <= shown:
        return options[int(said) - 1].key  # out of range: maybe a code listed as a synonym ("220")
    return _whole_phrases(tuple(options)).get(said)


@functools.lru_cache(maxsize=1024)
def _whole_phrases(options: tuple[Option, ...]) -> dict[str, str]:
    """Each phrase of a question's options, normalised, and the first option it names.

    Comparing the answer with every term of every option normalised a hundred-odd phrases per
    answer; a question's options are fixed per flow version, so the lookup is built once.
    """
    index: dict[str, str] = {}
    for option in options:
        for term in option.terms:
            index.setdefault(_phrase(term), option.key)
    return index


def _yes_no(said: str) -> str | None:
    words = set(said.split())
    if words & _NEGATIVE:
        return "no"
    if words & _POSITIVE:
        return "yes"
    return None


def _contained(said: str, options: Sequence[Option]) -> str | None:
    """An option whose phrase appears in the text as whole words; the longest phrase wins."""
    padded = f" {said} "
    best: dict[str, int] = {}
    for option in options:
        for term in option.terms:
            phrase = _phrase(term)
            if phrase and f" {phrase} " in padded:
                best[option.key] = max(best.get(option.key, 0), len(phrase))
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
        return ranked[0][0]
    return None


def _fuzzy(said: str, options: Sequence[Option]) -> str | None:
    """Close spelling ("authentification", "pasword"), only when one option is clearly closest."""
    scores: dict[str, float] = {}
    for option in options:
        for term in option.terms:
            phrase = _phrase(term)
            if not phrase:
                continue
            score = max(fuzz.ratio(said, phrase), fuzz.token_set_ratio(said, phrase) - 5)
            if len(said) > len(phrase) + 3:
                # A long sentence may contain a misspelt keyword; compare word windows of its size.
                score = max(score, _best_window(said, phrase))
            scores[option.key] = max(scores.get(option.key, 0.0), score)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked or ranked[0][1] < _FUZZY_CUTOFF:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < _FUZZY_MARGIN:
        return None
    return ranked[0][0]


def _best_window(said: str, phrase: str) -> float:
    words = said.split()
    size = len(phrase.split())
    best = 0.0
    for i in range(max(1, len(words) - size + 1)):
        window = " ".join(words[i : i + size])
        if len(window) >= 4:
            best = max(best, fuzz.ratio(window, phrase))
    return best
