"""The decision for one typed answer: exact words, signals, short answers, the classifier, confirm or ask."""

from __future__ import annotations

import pytest

from bot.nlu.matcher import Option
from bot.nlu.policy import UNCLEAR, Example, Thresholds, Understander
from bot.nlu.signals import SignalTable

OPTIONS = [
    Option("password", ("My password is wrong", "password", "login")),
    Option("connect", ("It can't connect", "timeout", "cannot connect")),
    Option("outbox", ("Messages sit in my outbox", "outbox", "firewall")),
    Option("hidden_size", ("The message is too big", "too big")),
]
SIGNALS = SignalTable(
    [
        ("password", ["535", "5.7.8"], ["authentication failed"]),
        ("connect", ["0x800CCC0E"], ["connection refused"]),
        ("outbox", [], ["antivirus"]),
        ("hidden_size", ["5.3.4"], []),
    ]
)
EXAMPLES = [
    Example(choice, text)
    for choice, texts in {
        "password": [
            "it rejects my password every time",
            "the login details are refused",
            "wrong password error",
        ],
        "connect": [
            "sending times out after a minute",
            "it cannot reach the mail server",
            "connection keeps failing",
        ],
        "outbox": [
            "emails stay in the outbox and never leave",
            "nothing happens when I press send, stuck in outbox",
        ],
        "hidden_size": ["the video I attached will not go", "big attachments fail to send"],
        UNCLEAR: ["my email does not work", "help me please", "email problem", "it is broken"],
    }.items()
    for text in texts
] + [Example(o.key, t) for o in OPTIONS for t in o.terms]


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander(OPTIONS, SIGNALS, EXAMPLES, Thresholds(direct=0.6, confirm=0.25), numbered=3)


def test_a_number_picks_a_shown_button_and_never_a_hidden_choice(understander: Understander) -> None:
    assert understander.decide("2").choice == "connect"
    assert understander.decide("4").action != "route"  # only three buttons are shown


def test_a_whole_label_routes_even_when_a_pattern_of_another_choice_fits(understander: Understander) -> None:
    decision = understander.decide("It can't connect")
    assert (decision.action, decision.choice) == ("route", "connect")


def test_a_signal_routes_directly_and_says_which(understander: Understander) -> None:
    decision = understander.decide("535 5.7.8 Error: authentication failed")
    assert (decision.action, decision.choice) == ("route", "password")
    assert decision.reason.startswith("signal ")
    assert decision.entities.codes == ("535", "5.7.8")


def test_contradicting_signals_are_confirmed_not_routed(understander: Understander) -> None:
    decision = understander.decide("authentication failed, then connection refused")
    assert decision.action == "confirm" and decision.choice in ("password", "connect")
    assert "disagree" in decision.reason


def test_a_short_answer_is_matched_by_its_words(understander: Understander) -> None:
    assert (understander.decide("firewall").action, understander.decide("firewall").choice) == (
        "route",
        "outbox",
    )


def test_a_message_naming_no_answer_is_asked_again(understander: Understander) -> None:
    decision = understander.decide("hello, my email does not work, help me")
    assert decision.action == "reask"


def test_a_middling_guess_is_confirmed_and_a_sure_one_routed() -> None:
    strict = Understander(OPTIONS, SIGNALS, EXAMPLES, Thresholds(direct=0.99, confirm=0.05), numbered=3)
    relaxed = Understander(OPTIONS, SIGNALS, EXAMPLES, Thresholds(direct=0.05, confirm=0.01), numbered=3)
    text = "sending times out after a minute every time"
    assert (strict.decide(text).action, strict.decide(text).choice) == ("confirm", "connect")
    relaxed_decision = relaxed.decide(text)
    assert (relaxed_decision.action, relaxed_decision.choice) == ("route", "connect")
    assert relaxed_decision.scores is not None and relaxed_decision.score == relaxed_decision.scores.best[1]


def test_a_choice_can_ask_for_more_certainty_than_its_question() -> None:
    careful = Understander(
        OPTIONS,
        SIGNALS,
        EXAMPLES,
        Thresholds(direct=0.05, confirm=0.01),
        numbered=3,
        direct_for={"outbox": 0.999},
    )
    decision = careful.decide("emails stay in the outbox and never leave the computer")
    assert (decision.action, decision.choice) == ("confirm", "outbox")


def test_without_examples_the_old_word_matcher_decides_any_length() -> None:
    words_only = Understander(OPTIONS, SignalTable([]), [], Thresholds())
    assert words_only.classifier is None
    assert words_only.decide("I think my password is the problem here today").choice == "password"
    assert words_only.decide("no idea what to say here").action == "reask"
