"""Typed answers matched to choices: numbers, labels, ids, synonyms, yes/no, containment and typos."""

from __future__ import annotations

import pytest

from bot.nlu.matcher import Option, match, normalize

SYMPTOMS = [
    Option("cannot_connect", ("It can't connect to the server", "cannot connect", "timeout", "port 25")),
    Option("login_rejected", ("My password is wrong", "login rejected", "password", "username")),
    Option("auth_required", ("Authentication is required", "auth required", "authentication", "530")),
    Option("other", ("Something else", "other", "not sure")),
]
TELNET = [
    Option("got_220", ("A reply starting with 220", "got 220", "220", "connected")),
    Option("no_reply", ("An error, or no reply", "no reply", "error", "timed out")),
    Option("cant_test", ("I can't run that test", "cant test", "skip")),
]
YES_NO = [Option("yes", ("Yes, it works now", "yes")), Option("no", ("No, it still fails", "no"))]


def test_normalize_folds_case_accents_apostrophes_and_punctuation() -> None:
    assert normalize("  Can\u2019t  CONNECT!!  ") == "cant connect"
    assert normalize("Élan, déjà-vu") == "elan deja vu"
    assert normalize("jo@example.com.") == "jo@example.com."


@pytest.mark.parametrize(
    ("typed", "key"), [("1", "cannot_connect"), ("2", "login_rejected"), (" 4 ", "other")]
)
def test_option_number_picks_that_option(typed: str, key: str) -> None:
    assert match(typed, SYMPTOMS) == key


@pytest.mark.parametrize("typed", ["0", "5", "99"])
def test_out_of_range_number_matches_nothing(typed: str) -> None:
    assert match(typed, SYMPTOMS) is None


def test_number_that_is_a_synonym_matches_that_synonym() -> None:
    # The reference flow lists "220" (a telnet reply) and "530"/"554" (SMTP codes) as synonyms;
    # a customer typing them means the code, not option number 220.
    assert match("220", TELNET) == "got_220"
    assert match("530", SYMPTOMS) == "auth_required"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("It can't connect to the server", "cannot_connect"),  # the label
        ("it CANT connect to the server!", "cannot_connect"),  # label, other case and punctuation
        ("login rejected", "login_rejected"),  # the id with spaces
        ("timeout", "cannot_connect"),  # a synonym
        ("Authentication", "auth_required"),
    ],
)
def test_label_id_and_synonym(typed: str, key: str) -> None:
    assert match(typed, SYMPTOMS) == key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("my mail program gives a timeout every time", "cannot_connect"),
        ("I think the password is not right", "login_rejected"),
        ("the server wants authentication", "auth_required"),
    ],
)
def test_phrase_contained_in_a_sentence(typed: str, key: str) -> None:
    assert match(typed, SYMPTOMS) == key


@pytest.mark.parametrize(
    ("typed", "key"),
    [("pasword", "login_rejected"), ("authentification", "auth_required"), ("timout", "cannot_connect")],
)
def test_fuzzy_typos(typed: str, key: str) -> None:
    assert match(typed, SYMPTOMS) == key


@pytest.mark.parametrize("typed", ["purple elephants", "banana", "", "   ", "!!!"])
def test_no_match(typed: str) -> None:
    assert match(typed, SYMPTOMS) is None


def test_ambiguous_sentence_matches_nothing_rather_than_guessing() -> None:
    # Both "password" and "timeout" are phrases of the same length in different options.
    options = [Option("a", ("password",)), Option("b", ("timeouts",))]
    assert match("password timeouts", options) is None


def test_longest_contained_phrase_wins() -> None:
    options = [Option("port", ("port",)), Option("port25", ("port 25 blocked",))]
    assert match("I think port 25 blocked by my isp", options) == "port25"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("yes", "yes"),
        ("Yep!", "yes"),
        ("it works now, thanks", "yes"),
        ("sorted", "yes"),
        ("nope", "no"),
        ("not working", "no"),  # "working" is positive, but the negation wins
        ("it still fails", "no"),
        ("didn't help", "no"),
    ],
)
def test_yes_no_questions(typed: str, key: str) -> None:
    assert match(typed, YES_NO) == key


def test_no_options() -> None:
    assert match("yes", []) is None


def test_a_whole_phrase_two_options_share_names_the_first_one() -> None:
    # Flows list a choice's synonyms freely; when two choices claim the same phrase, the one
    # listed first (the one shown first) is the answer, whichever way the phrase is written.
    options = [Option("outlook", ("Outlook", "desktop app")), Option("web", ("webmail", "Desktop-App"))]
    assert match("desktop app", options) == "outlook"
    assert match("desktop app", list(reversed(options))) == "web"
