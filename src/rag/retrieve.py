"""Rank chunks for a question: dense (MiniLM + FAISS), keyword (BM25) or both fused.

The three modes share the same chunks, so `rag eval` compares them on equal terms; hybrid
fuses the two rankings with reciprocal rank fusion, which needs no score calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.models import Chunk, Hit

MODES = ("hybrid", "dense", "keyword")


class KeywordIndex:
    """BM25 over the same text that is embedded (heading path + clean text), English-stemmed."""

    def __init__(self, texts: Sequence[str]):
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self._tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en", lower=True)
        ids = self._tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
        self._bm25 = bm25s.BM25()
        self._bm25.index(ids, show_progress=False)
        self._size = len(texts)

    def scores(self, question: str) -> np.ndarray:
        ids = self._tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)[0]
        if not ids or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)


@dataclass(frozen=True)
class Ranked:
    """Chunk positions with scores, best first."""

    ids: list[int]
    scores: list[float]


def top(scores: np.ndarray, n: int) -> Ranked:
    n = min(n, len(scores))
    idx = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    idx = sorted(idx.tolist(), key=lambda i: (-float(scores[i]), i))
    return Ranked(idx, [float(scores[i]) for i in idx])


def reciprocal_rank_fusion(rankings: Sequence[Ranked], k: int = 60) -> Ranked:
    """score(d) = Σ 1 / (k + rank_d) over the rankings that contain d (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking.ids, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    order = sorted(fused, key=lambda i: (-fused[i], i))
    return Ranked(order, [fused[i] for i in order])


class Retriever:
    def __init__(self, stored, embedder, candidate_pool: int = 50, rrf_k: int = 60):
        self.chunks: list[Chunk] = stored.chunks
        self.vectors = stored.vectors  # faiss index, read-only after load: safe to search from many threads
        self.unit_chunk: np.ndarray = stored.unit_chunk
        self.embedder = embedder
        units = [(i, text) for i, c in enumerate(self.chunks) for _, text in c.embedding_units()]
        self.keyword_unit_chunk = np.asarray([i for i, _ in units], dtype=np.int64)
        self.keyword_index = KeywordIndex([text for _, text in units])
        self.candidate_pool = candidate_pool
        self.rrf_k = rrf_k

    def dense(self, question: str, n: int) -> Ranked:
        """Cosine similarity of a chunk = the best of the chunk as a whole and each of its sentences."""
        return top(self.dense_scores(question), n)

    def dense_scores(self, question: str) -> np.ndarray:
        query = self.embedder.encode([question])
        scores, ids = self.vectors.search(query, self.vectors.ntotal)
        best = np.full(len(self.chunks), -1.0, dtype=np.float32)
        np.maximum.at(best, self.unit_chunk[ids[0]], scores[0])
        return best

    def keyword_scores(self, question: str) -> np.ndarray:
        """BM25 of a chunk = the best of the chunk as a whole and each of its sentences, as for dense."""
        best = np.zeros(len(self.chunks), dtype=np.float32)
        np.maximum.at(best, self.keyword_unit_chunk, self.keyword_index.scores(question))
        return best

    def keyword(self, question: str, n: int) -> Ranked:
        ranked = top(self.keyword_scores(question), n)
        keep = [j for j, s in enumerate(ranked.scores) if s > 0]
        return Ranked([ranked.ids[j] for j in keep], [ranked.scores[j] for j in keep])

    def rank(self, question: str, k: int, mode: str = "hybrid") -> Ranked:
        if mode == "dense":
            return self.dense(question, k)
        if mode == "keyword":
            return self.keyword(question, k)
        if mode == "hybrid":
            pool = max(k, self.candidate_pool)
            fused = reciprocal_rank_fusion([self.dense(question, pool), self.keyword(question, pool)], self.rrf_k)
            return Ranked(fused.ids[:k], fused.scores[:k])
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")

    def search(self, question: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        ranked = self.rank(question, k, mode)
        return [Hit(self.chunks[i], s, r) for r, (i, s) in enumerate(zip(ranked.ids, ranked.scores), start=1)]
