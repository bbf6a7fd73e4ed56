"""The per-question classifier: trained from examples, deterministic, and equal to scikit-learn's own maths."""

from __future__ import annotations

import pytest

from bot.nlu.classifier import CLASSIFY_CHARS, QuestionClassifier, prepare

TEXTS = [
    "the password is wrong",
    "it rejects my password",
    "login failed",
    "invalid username or password",
    "it times out",
    "cannot connect to the server",
    "connection refused",
    "the server does not answer",
    "the attachment is too big",
    "message size exceeded",
    "the file is too large",
    "my video will not send",
]
LABELS = ["password"] * 4 + ["connect"] * 4 + ["size"] * 4


@pytest.fixture(scope="module")
def classifier() -> QuestionClassifier:
    return QuestionClassifier(TEXTS, LABELS)


def test_it_ranks_the_choice_whose_examples_the_message_resembles(classifier: QuestionClassifier) -> None:
    assert classifier.scores("my password keeps being rejected").best[0] == "password"
    assert classifier.scores("the connection to the server times out").best[0] == "connect"
    assert classifier.scores("the photo attachment is too large to send").best[0] == "size"


def test_scores_are_probabilities_best_first(classifier: QuestionClassifier) -> None:
    scores = classifier.scores("login failed")
    assert abs(sum(p for _, p in scores.ranked) - 1.0) < 1e-9
    assert [p for _, p in scores.ranked] == sorted((p for _, p in scores.ranked), reverse=True)
    assert scores.margin == scores.ranked[0][1] - scores.ranked[1][1]
    assert scores.of("nothing such") == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "the password is wrong",
        "",
        "0x800CCC0E",
        "535 5.7.8 auth failed from 192.0.2.1",
        "zzzz qqqq",
        "é" * 50,
    ],
)
def test_the_fast_path_computes_what_scikit_learn_computes(classifier: QuestionClassifier, text: str) -> None:
    fast, reference = dict(classifier.scores(text).ranked), dict(classifier.sklearn_scores(text).ranked)
    assert fast.keys() == reference.keys()
    assert all(abs(fast[c] - reference[c]) < 1e-9 for c in fast)


def test_training_is_deterministic() -> None:
    first = QuestionClassifier(TEXTS, LABELS).scores("server unreachable")
    second = QuestionClassifier(TEXTS, LABELS).scores("server unreachable")
    assert first == second


def test_one_class_cannot_be_trained() -> None:
    with pytest.raises(ValueError, match="at least two choices"):
        QuestionClassifier(["a", "b"], ["x", "x"])


def test_prepare_masks_addresses_and_joins_enhanced_codes() -> None:
    prepared = prepare("550 5.7.1 from [192.0.2.1] to bob@example.com see https://example.com/x")
    assert "status571" in prepared and "ipaddress" in prepared and "emailaddress" in prepared
    assert "192.0.2.1" not in prepared and "bob@" not in prepared and "https" not in prepared
    assert len(prepare("x" * 10_000)) == CLASSIFY_CHARS
