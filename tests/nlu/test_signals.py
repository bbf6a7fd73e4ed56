"""Error signatures: code shapes, RE2 patterns, and which choice a set of matches names."""

from __future__ import annotations

import pytest

from bot.engine.compile import load_file
from bot.nlu.entities import Entities, extract
from bot.nlu.signals import (
    CLIENT_CODE,
    ENHANCED_CODE,
    PATTERN,
    REPLY_CODE,
    SignalError,
    SignalHit,
    SignalTable,
    code_strength,
    compile_pattern,
    verdict,
)
from tests.support.flows import REFERENCE

TABLE = SignalTable(
    [
        ("login_rejected", ["535", "5.7.8", "0x800ccc92"], ["authentication failed"]),
        ("auth_required", ["530"], ["relay(ing)? (access )?denied"]),
        ("blocked", [], ["blocked using", "spamhaus"]),
        ("hint_only", ["550"], []),
    ]
)


@pytest.mark.parametrize(
    ("code", "strength"),
    [("535", REPLY_CODE), ("5.7.8", ENHANCED_CODE), ("0x800CCC0E", CLIENT_CODE), ("0x800ccc0e", CLIENT_CODE)],
)
def test_codes_have_a_strength_by_their_shape(code: str, strength: int) -> None:
    assert code_strength(code) == strength


@pytest.mark.parametrize("code", ["5357", "600", "5.7", "0x123", "S3150", ""])
def test_a_code_of_no_known_shape_says_how_to_write_one(code: str) -> None:
    with pytest.raises(SignalError, match=r"like 535.*like 5\.7\.8.*0x800CCC92.*patterns"):
        code_strength(code)


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a", "missing \\), unterminated subpattern"),
        ("(?<=x)y", "a feature RE2 does not have"),
        (r"(a)\1", "RE2 does not"),
    ],
)
def test_patterns_that_re2_cannot_run_are_refused_with_the_reason(pattern: str, why: str) -> None:
    with pytest.raises(SignalError, match=why):
        compile_pattern(pattern)


def test_patterns_are_case_insensitive_and_see_wrapped_lines_as_one() -> None:
    text = "550 5.7.1 Service unavailable; Client host [192.0.2.1] BLOCKED\n   USING zen.spamhaus.org"
    hits = TABLE.find(text, extract(text))
    assert {(h.choice, h.signal) for h in hits} >= {("blocked", "blocked using"), ("blocked", "spamhaus")}


def test_a_pattern_beats_a_bare_reply_code_of_another_choice() -> None:
    text = "550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"
    hits = TABLE.find(text, extract(text))
    assert ("hint_only", "550", REPLY_CODE) in {(h.choice, h.signal, h.strength) for h in hits}
    assert verdict(hits) == ("blocked", ["blocked"])


def test_codes_match_only_where_the_text_holds_them_as_codes() -> None:
    text = "535 5.7.8 Error: authentication failed"
    assert verdict(TABLE.find(text, extract(text)))[0] == "login_rejected"
    assert TABLE.find("I sent 535 emails", extract("I sent 535 emails")) == []


def test_equally_strong_signals_of_two_choices_decide_nothing() -> None:
    hits = [SignalHit("a", "x", PATTERN), SignalHit("b", "y", PATTERN), SignalHit("a", "z", PATTERN)]
    assert verdict(hits) == (None, ["a", "b"])


def test_an_empty_table_is_falsy_and_finds_nothing() -> None:
    table = SignalTable([("a", [], []), ("b", [], [])])
    assert not table
    assert table.find("535 5.7.8", extract("535 5.7.8")) == []


def test_a_hostile_pattern_runs_in_linear_time_on_hostile_input() -> None:
    # (a+)+$ takes exponential time in a backtracking engine on "aaaa…b"; RE2 does not backtrack.
    pattern = compile_pattern("(a+)+$")
    assert pattern.search("a" * 100_000 + "b") is None


def test_the_reference_flow_finds_every_pattern_that_searching_each_finds() -> None:
    # The table asks all of a question's patterns in one pass; what it finds must be exactly
    # what each pattern, searched on its own, finds, in the order the flow lists them.
    flow = load_file(REFERENCE)
    questions = [
        (spec, flow.steps[step_id].understander) for step_id, spec in flow.spec.steps.items() if spec.choices
    ]
    texts = [
        "it says my password is wrong",
        "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org",
        *(example.text for _, question in questions if question for example in question.examples),
    ]
    checked = 0
    for spec, question in questions:
        assert question is not None
        patterns = [
            (choice.key, source, compile_pattern(source))
            for choice in spec.choices or []
            for source in (choice.signals.patterns if choice.signals else [])
        ]
        for text in texts:
            expected = [
                SignalHit(choice, source, PATTERN)
                for choice, source, pattern in patterns
                if pattern.search(text)
            ]
            found = [hit for hit in question.signals.find(text, Entities()) if hit.strength == PATTERN]
            assert found == expected, text
            checked += len(expected)
    assert checked > 20  # the texts reach many patterns, not only misses
