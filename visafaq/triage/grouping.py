"""Grouping near-identical questions, so staff see one row per question with a count and examples.

TF-IDF over character n-grams (robust to typos, plurals and word order) and average-linkage
agglomerative clustering on cosine distance: two groups merge only while their members are, on
average, at least `threshold` similar, which avoids the chaining of a plain union-find.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from visafaq.triage.privacy import mask

#: Cosine similarity at which two questions count as the same question (tuned on tests/triage's set).
SIMILARITY_THRESHOLD = 0.45

_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalise(question: str) -> str:
    """Lower case, personal data and punctuation out: "Hi!! my email is a@b.jp" ~ "hi my email is"."""
    text = mask(question).lower()
    return _SPACE.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def group_questions(questions: Sequence[str], threshold: float = SIMILARITY_THRESHOLD) -> list[list[int]]:
    """Indices of `questions` in groups of near-identical ones; biggest group first, then first seen."""
    if not questions:
        return []
    texts = [normalise(q) for q in questions]
    groups: dict[int, list[int]] = {}
    if len(questions) == 1:
        groups[0] = [0]
    else:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        try:
            vectors = vectorizer.fit_transform(texts).toarray()
        except ValueError:  # nothing but punctuation or empty strings: nothing to compare
            return [[index] for index in range(len(questions))]
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1.0 - threshold
        ).fit_predict(_nonzero(vectors))
        for index, label in enumerate(labels):
            groups.setdefault(int(label), []).append(index)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def _nonzero(vectors: np.ndarray) -> np.ndarray:
    """Cosine distance is undefined for an all-zero row (a question of one or two letters): nudge it."""
    array = np.asarray(vectors, dtype=float)
    empty = ~array.any(axis=1)
    if empty.any():
        array = np.hstack([array, empty[:, None].astype(float)])
    return array
