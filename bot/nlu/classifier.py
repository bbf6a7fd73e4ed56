"""A question's text classifier: TF-IDF word and character n-grams with a linear model, per flow version."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.nlu.entities import MAX_CHARS

# The classifier reads the start of a message: a pasted bounce states its error first and quotes
# the whole original mail after it. 1,500 characters keep prediction under a millisecond.
CLASSIFY_CHARS = 1_500
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_URL = re.compile(r"\bhttps?://\S+")
_WORD = r"(?u)\b\w+\b"  # single characters count too: "no", "2", "x"


def prepare(text: str) -> str:
    """The text as the classifier sees it: addresses masked, codes made into single words."""
    text = text[:MAX_CHARS][:CLASSIFY_CHARS].lower()
    text = _URL.sub(" url ", text)
    text = _EMAIL.sub(" emailaddress ", text)
    text = _IPV4.sub(" ipaddress ", text)
    return _ENHANCED.sub(r" status\1\2\3 ", text)


@dataclass(frozen=True)
class Scores:
    """The classifier's probability for each choice, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked[0]

    @property
    def margin(self) -> float:
        """How far the best choice is ahead of the second."""
        return self.ranked[0][1] - (self.ranked[1][1] if len(self.ranked) > 1 else 0.0)

    def of(self, choice: str) -> float:
        return next((p for c, p in self.ranked if c == choice), 0.0)


class QuestionClassifier:
    """Trained once when a flow version loads; deterministic (lbfgs, fixed data order), no network.

    scikit-learn fits the vectorisers and the model. Prediction reads the fitted vocabularies and
    weights directly: sklearn's transform + predict_proba cost ~1.8 ms a message in input checks,
    the same arithmetic done here costs a fraction of that (bench/nlu.py prints both).
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        # Imported here: scikit-learn takes ~1 s to import, and only flows with examples need it.
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples for at least two choices")
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=_WORD, dtype=np.float64)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float64)
        self.features = FeatureUnion([("words", words), ("chars", chars)])
        matrix = self.features.fit_transform([prepare(t) for t in texts])
        # C and tol measured on the reference flow's examples (bench/nlu.py): C=10 keeps a wrong
        # guess's probability low enough to confirm rather than route; tol=1e-3 trains 3x faster
        # than the default with the same predictions.
        self.model = LogisticRegression(C=10.0, tol=1e-3, max_iter=3000, class_weight="balanced")
        self.model.fit(matrix, list(labels))
        self.classes: tuple[str, ...] = tuple(str(c) for c in self.model.classes_)
        self._parts = [_Part(v, offset) for v, offset in _offsets([words, chars])]
        self._coef = np.ascontiguousarray(self.model.coef_.T)  # (features, classes)
        self._intercept = self.model.intercept_.copy()
        self._np = np

    def scores(self, text: str) -> Scores:
        np = self._np
        index: list[int] = []
        values: list[float] = []
        for part in self._parts:
            part.vector(prepare(text), index, values)
        logits = self._intercept + (np.asarray(values) @ self._coef[index] if index else 0.0)
        exp = np.exp(logits - logits.max())
        return self._ranked(exp / exp.sum())

    def sklearn_scores(self, text: str) -> Scores:
        """The same scores through scikit-learn's own transform and predict_proba (tests compare)."""
        return self._ranked(self.model.predict_proba(self.features.transform([prepare(text)]))[0])

    def _ranked(self, probabilities: Any) -> Scores:
        ranked = sorted(
            zip(self.classes, (float(p) for p in probabilities), strict=True), key=lambda cp: -cp[1]
        )
        return Scores(tuple(ranked))


class _Part:
    """One fitted TF-IDF vectoriser as plain data: its analyser, vocabulary and idf weights."""

    def __init__(self, vectorizer: Any, offset: int) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = {
            term: int(i) + offset for term, i in vectorizer.vocabulary_.items()
        }
        self.idf: dict[int, float] = {int(i) + offset: float(w) for i, w in enumerate(vectorizer.idf_)}

    def vector(self, prepared: str, index: list[int], values: list[float]) -> None:
        """Append this part's L2-normalised, sublinear TF-IDF entries for `prepared` text."""
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for term in self.analyze(prepared):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return
        weights = {column: (1.0 + math.log(n)) * self.idf[column] for column, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for column, weight in weights.items():
            index.append(column)
            values.append(weight / norm)


def _offsets(vectorizers: Sequence[Any]) -> list[tuple[Any, int]]:
    out, offset = [], 0
    for vectorizer in vectorizers:
        out.append((vectorizer, offset))
        offset += len(vectorizer.vocabulary_)
    return out
