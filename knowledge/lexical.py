"""Keyword side of hybrid retrieval: BM25 over the stored passages and reciprocal-rank fusion.

Staff type part numbers, role names and jargon ('OTIF', 'FEFO', 'MOQ') that a small sentence
embedder blurs; BM25 matches them exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

_TOKEN = re.compile(r"[a-z0-9]+")
# fmt: off
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "if", "in", "is", "it", "of", "on", "or", "our", "should", "the", "this", "to", "we",
    "what", "when", "where", "which", "who", "whom", "why", "will", "with", "you", "your", "my",
    "me", "us", "did", "has", "have", "there", "their", "them", "then", "than", "so", "any",
    "all",
})
# fmt: on


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def _stem(token: str) -> str:
    """Light suffix stripping so 'approvals'/'approval' and 'cancelled'/'cancel' meet; a full
    stemmer would be a new dependency for a small gain on short SOP passages."""
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ed", "ies", "es", "s", "ly"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            token = token[: -len(suffix)]
            break
    if len(token) > 3 and token[-1] == token[-2] and token[-1] not in "aeiou":
        token = token[:-1]  # cancell -> cancel, shipp -> ship
    return token


class KeywordIndex:
    """BM25 over a fixed list of passages, identified by their store ids."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str]):
        self.ids = list(ids)
        self._bm25 = BM25Okapi([tokenize(t) or ["_"] for t in texts]) if texts else None

    def ranked(self, query: str, n: int) -> list[str]:
        """Ids of the ``n`` best passages with a positive score, best first."""
        if self._bm25 is None:
            return []
        scores = self._bm25.get_scores(tokenize(query))
        order = np.argsort(-scores, kind="stable")[:n]
        return [self.ids[i] for i in order if scores[i] > 0]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """{id: sum of 1/(k + rank)} over the rankings (rank 1 = best), normalised so that an id
    ranked first by every ranking scores 1.0."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    best = len(rankings) / (k + 1)
    return {item: score / best for item, score in scores.items()}
