"""Rank chunks for a question: dense (MiniLM + FAISS), keyword (BM25) or both fused.

The three modes share the same chunks, so `rag eval` compares them on equal terms. Hybrid sums
min-max normalised dense and BM25 scores (dense weighted 0.65, BM25's weight scaled by how much of
the question its best chunk covers), which kept more of how far ahead the best match is than
reciprocal rank fusion did on the dev questions; RRF stays selectable (`fusion`).
A question in parts (two names coordinated, or two questions joined: "..., and how ...") is also
asked once per part, and the top of the ranking takes each part's best passages in turn, so that
each part finds its passage and its footnotes.
Hybrid can also lift the chunks that hold the kind of thing asked for, a date for "When ...?"
(`type_prior`, answer_type.py); it is off, as measured in the README.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rag.answer_type import KINDS, expected_type, given_figures, holds_new, matches_type
from rag.models import Chunk, Hit

MODES = ("hybrid", "dense", "keyword")


# Names coordinated in a question: "Tajikistan and Kyrgyzstan", "Kazakhstan's, Uzbekistan's and Tajikistan's".
_COORDINATED = re.compile(r"\b[A-Z][\w-]*(?:'s)?(?:,\s*[A-Z][\w-]*(?:'s)?)*,?\s+(?:and|or)\s+(?:in\s+|the\s+)?[A-Z][\w-]*")
# Where a question joins a second question to the first: ", and how many ...", "... while ...".
_CLAUSES = re.compile(
    r",? (?:and|but) (?=(?:how|what|which|who|whom|whose|when|where|why|did|does|do|is|are|was|were|has|have)\b)"
    r"|,? (?:compared (?:with|to)|while|whereas|as well as) ",
    re.I,
)
_WH = re.compile(r"(?:how|what|which|who|whom|whose|when|where|why)\b", re.I)
_AUXILIARIES = {"did", "does", "do"}  # "How many children did Kyrgyzstan repatriate?": never what a question is about
# Words that say what kind of answer is wanted, not what it is about (the citation apparatus included).
_QUESTION_WORDS = _AUXILIARIES | {"how", "many", "much", "what", "which", "who", "whom", "whose", "when", "where", "why",
                   "report", "according", "say", "says", "said", "mention", "mentioned", "describe", "described",
                   "cite", "cited", "cites", "source", "sources", "footnote", "footnotes", "author", "authors"}


@dataclass(frozen=True)
class QuestionTerms:
    """A question's content words (stemmed, question words and stop words dropped) and, among them, its names."""

    terms: frozenset[str]
    names: frozenset[str]  # capitalised after the first word: "Turkmenistan", "Al-Hawl"


class KeywordIndex:
    """BM25 over the same text that is embedded (heading path + clean text), English-stemmed."""

    def __init__(self, texts: Sequence[str]):
        import bm25s
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN_PLUS
        from bm25s.tokenization import Tokenizer

        self._stemmer = Stemmer.Stemmer("english")
        self._tokenizer = Tokenizer(stemmer=self._stemmer, stopwords="en", lower=True)
        ids = self._tokenizer.tokenize(list(texts), update_vocab=True, return_as="ids", show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(ids, show_progress=False)
        self._by_token = _token_rows(bm25.scores)
        self._size = len(texts)
        self._ignore = set(STOPWORDS_EN_PLUS) | _QUESTION_WORDS
        self._unit_terms = [set(self.content_terms(t)) for t in texts]
        df: dict[str, int] = {}
        for terms in self._unit_terms:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        self._df = df

    def content_terms(self, text: str) -> list[str]:
        words = [w for w in re.findall(r"\w\w+", text.lower()) if w not in self._ignore]
        return self._stemmer.stemWords(words)

    def analyse(self, question: str) -> QuestionTerms:
        words = re.findall(r"\w+", question)[1:]
        return QuestionTerms(frozenset(self.content_terms(question)), self._stems(w for w in words if w[:1].isupper()))

    def _stems(self, words: Iterable[str]) -> frozenset[str]:
        return frozenset(self._stemmer.stemWords([w.lower() for w in words if w.lower() not in self._ignore]))

    def _parts(self, question: str) -> frozenset[str]:
        """Names coordinated by "and"/"or" ("Tajikistan and Kyrgyzstan", "in Kazakhstan and in Uzbekistan")."""
        match = _COORDINATED.search(question)
        if match is None:
            return frozenset()
        parts = self._stems(re.findall(r"[A-Z][\w-]*", match.group(0)))
        return parts if len(parts) >= 2 else frozenset()

    def part_questions(self, question: str) -> list[str]:
        """One question per part: per coordinated name, else per joined question, else none."""
        return self._name_questions(question) or _clause_questions(question)

    def _name_questions(self, question: str) -> list[str]:
        """The question once per name, the other names taken out: "How many children did Tajikistan
        and Kyrgyzstan each repatriate?" asks, in effect, once about each country."""
        parts = self._parts(question)
        if not parts:
            return []
        words = re.findall(r"\S+", question)
        stem = {w: next(iter(self._stems([re.sub(r"\W+$|'s$", "", w)])), "") for w in words}
        return [" ".join(w for w in words if stem[w] not in parts - {part}) for part in sorted(parts)]

    def idf(self, term: str) -> float:
        """Rare terms weigh most; a term the report never uses weighs most of all."""
        return math.log((self._size + 1) / (self._df.get(term, 0) + 0.5))

    def missing_share(self, question: QuestionTerms, units: Sequence[int]) -> float:
        """Share of the question's content (IDF-weighted) that none of these units' texts contains:
        the mark of a question about something the passages, or the whole report, never name."""
        if not question.terms:
            return 0.0
        absent = question.terms - self._terms_of(units)
        return sum(self.idf(t) for t in absent) / sum(self.idf(t) for t in question.terms)

    def missing_name(self, question: QuestionTerms, units: Sequence[int]) -> float:
        """Rarity (IDF, scaled to [0, 1]) of the rarest name in the question that none of these
        units mentions: "Turkmenistan" when the passages are about Uzbekistan. 0 when all are there."""
        absent = question.names - self._terms_of(units)
        return max((self.idf(t) for t in absent), default=0.0) / self.idf("")

    def _terms_of(self, units: Sequence[int]) -> set[str]:
        return set().union(*(self._unit_terms[u] for u in units)) if units else set()

    def scores(self, question: str) -> np.ndarray:
        """BM25 of every unit: the sum of the question's token rows (what bm25s's get_scores sums, kept dense)."""
        ids = list(next(self._tokenizer.streaming_tokenize([self.query_text(question)], update_vocab=False)))
        if not ids or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return self._by_token[ids].sum(axis=0)

    def query_text(self, question: str) -> str:
        """The question without its opening ("When did", "According to the report, how many") and its
        auxiliaries. bm25s drops only 33 stop words, so "when" and "did" counted as terms, and "When did
        Kyrgyzstan repatriate children?" ranked first a passage on documents missing "when they arrived".
        Only the opening goes: later, "when" is content ("... do when airliners flew above them?").
        On the dev split and the tuning files keyword-only MRR@10 rose 0.02 to 0.03; the default barely moved."""
        words = question.split()
        start = next((i for i, w in enumerate(words) if _bare(w) not in self._ignore), len(words))
        kept = [w for w in words[start:] if _bare(w) not in _AUXILIARIES]
        return " ".join(kept) or question


def _bare(word: str) -> str:
    return re.sub(r"\W", "", word).lower()


def _clause_questions(question: str) -> list[str]:
    """ "How many did A bring back, and how many did B?" → the two questions. A second part that is not
    a question of its own ("..., compared with the time B spent ...") borrows the first's opening words."""
    match = _CLAUSES.search(question)
    if match is None:
        return []
    first, second = question[: match.start()].strip(), question[match.end() :].strip()
    if not first or not second:
        return []
    if _BARE_WH.match(second):
        second = _asked_again(second, first)
    elif not _WH.match(second):
        second = " ".join(first.split()[:2] + [second])
    return [first, second]


_BARE_WH = re.compile(rf"^{_WH.pattern}\W*$", re.I)  # "when?" alone
# The opening of a question up to its verb: "How many children | did Kyrgyzstan repatriate".
_OPENING = re.compile(r"^\W*(?:how (?:many|much)|what|which|who|whom|whose)\b(?P<object>.*?)\b(?P<rest>(?:did|does|do|is|are|was|were|has|have|had)\b.*)$", re.I)


def _asked_again(wh: str, first: str) -> str:
    """ "How many children did Kyrgyzstan repatriate, and when?": the bare "when" asks the first question
    again, of a time: "when did Kyrgyzstan repatriate children". Asked alone it would match anything."""
    wh = wh.strip(" ?!.").lower()
    m = _OPENING.match(first)
    return f"{wh} {m.group('rest').strip()} {m.group('object').strip()}".strip() if m else f"{wh} {first[:1].lower()}{first[1:]}"


def _token_rows(scores: dict) -> np.ndarray:
    """bm25s's per-token scores (a CSC matrix, units by token) as a dense token-by-unit array: a
    question's scores are then a sum of a few rows, about 4x faster than the sparse path."""
    from scipy.sparse import csc_matrix

    n_tokens = len(scores["indptr"]) - 1
    matrix = csc_matrix((scores["data"], scores["indices"], scores["indptr"]), shape=(scores["num_docs"], n_tokens))
    return np.ascontiguousarray(matrix.T.toarray(), dtype=np.float32)


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


@dataclass(frozen=True)
class UnitScores:
    """Scores of every embedded unit (each chunk whole, then its sentences) for one question."""

    dense: np.ndarray | None
    keyword: np.ndarray | None
    terms: QuestionTerms  # the question's content words, for coverage and the no-answer model
    typed: np.ndarray  # 1 for each chunk holding the kind of thing asked for (a date for "When ..."), else 0; all 0 when type_prior is off


@dataclass(frozen=True)
class Part:
    """One part of a question in parts, with its own unit scores."""

    question: str
    scores: UnitScores


class Retriever:
    """Ranks chunks; a chunk scores as the best of itself and its sentences, in each mode."""

    def __init__(self, stored, embedder, candidate_pool: int = 50, rrf_k: int = 60, fusion: str = "rrf", dense_weight: float = 0.5,
                 type_prior: float = 0.0):
        self.chunks: list[Chunk] = stored.chunks
        self.vectors = stored.vectors  # faiss index, read-only after load: safe to search from many threads
        self.unit_chunk: np.ndarray = stored.unit_chunk
        self.unit_sentence: np.ndarray = stored.unit_sentence
        self._unit_matrix = np.ascontiguousarray(self.vectors.reconstruct_n(0, self.vectors.ntotal), dtype=np.float32)
        self.embedder = embedder
        texts = [text for c in self.chunks for _, text in c.embedding_units()]
        if len(texts) != len(self.unit_chunk) or np.any(np.diff(self.unit_chunk) < 0):
            raise ValueError("index units do not match the chunks' embedding units")
        self._chunk_starts = np.searchsorted(self.unit_chunk, np.arange(len(self.chunks)))
        self.keyword_index = KeywordIndex(texts)
        self.chunk_position = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.sentence_rows = self._sentence_rows()
        self.chunk_rows = {i: row for row, (i, j) in enumerate(zip(self.unit_chunk.tolist(), self.unit_sentence.tolist())) if j < 0}
        self.candidate_pool = candidate_pool
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.type_prior = type_prior
        # With the prior off, typed_chunks (up to 5 ms for a question giving a figure) is not run.
        self._untyped = np.zeros(len(self.chunks), dtype=np.float32)

    def _sentence_rows(self) -> dict[tuple[int, int], int]:
        """(chunk position, sentence position) -> unit row; a one-sentence chunk's sentence is the chunk."""
        rows = {}
        for row, (i, j) in enumerate(zip(self.unit_chunk.tolist(), self.unit_sentence.tolist())):
            if j >= 0:
                rows[(i, j)] = row
            elif len(self.chunks[i].sentences) == 1:
                rows[(i, 0)] = row
        return rows

    # -- unit scores
    def unit_scores(self, question: str, dense: bool = True, keyword: bool = True) -> UnitScores:
        return self.many_unit_scores([question], dense, keyword)[0]

    def many_unit_scores(self, questions: list[str], dense: bool = True, keyword: bool = True) -> list[UnitScores]:
        """Unit scores of several questions, encoded in one batch (cheaper than one call each). Dense
        scores are the inner product with every unit, in unit order: what an exhaustive IndexFlatIP
        search computes, without sorting them all (every unit's score is needed, for chunk maxima and
        answer sentences)."""
        vectors = self.embedder.encode(questions) if dense else [None] * len(questions)
        return [
            UnitScores(
                self._unit_matrix @ v if dense else None,
                self.keyword_index.scores(q) if keyword else None,
                self.keyword_index.analyse(q),
                self.typed_chunks(q) if self.type_prior else self._untyped,
            )
            for q, v in zip(questions, vectors)
        ]

    @cached_property
    def _holding(self) -> dict[str, list[int]]:
        """The chunks holding each kind of thing; worked out on first use, as the prior is off by default."""
        return {kind: [i for i, c in enumerate(self.chunks) if any(matches_type(t.clean, kind) for t in c.sentences)] for kind in KINDS}

    def typed_chunks(self, question: str) -> np.ndarray:
        """Which chunks hold the kind of thing the question asks for, besides the figures it gives."""
        out = np.zeros(len(self.chunks), dtype=np.float32)
        kind = expected_type(question)
        if kind is not None:
            given = given_figures(question)
            holding = self._holding[kind]
            if given:  # a figure the question gives is not what it asks for
                holding = [i for i in holding if any(holds_new(t.clean, kind, given) for t in self.chunks[i].sentences)]
            out[holding] = 1.0
        return out

    def per_chunk(self, unit_values: np.ndarray) -> np.ndarray:
        """Each chunk's best unit (units are stored chunk by chunk, so a segmented maximum)."""
        return np.maximum.reduceat(unit_values, self._chunk_starts)

    # -- rankings
    def chunk_scores(self, scores: UnitScores, mode: str) -> np.ndarray:
        """Every chunk's score in this mode (0 for chunks outside the RRF pool)."""
        if mode == "dense":
            return self.per_chunk(scores.dense)
        if mode == "keyword":
            return self.per_chunk(scores.keyword)
        if mode != "hybrid":
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        dense, keyword = self.per_chunk(scores.dense), self.per_chunk(scores.keyword)
        if self.fusion == "weighted":
            # min-max normalised scores, weighted: keeps how much better the best match is
            keyword_weight = (1 - self.dense_weight) * self._keyword_coverage(scores.terms, keyword)
            return self.dense_weight * _minmax(dense) + keyword_weight * _minmax(keyword) + self.type_prior * scores.typed
        pool = self.candidate_pool
        fused = reciprocal_rank_fusion([top(dense, pool), top(keyword, pool)], self.rrf_k)
        out = np.zeros(len(self.chunks), dtype=np.float32)
        out[fused.ids] = fused.scores
        return out

    def _keyword_coverage(self, terms: QuestionTerms, keyword: np.ndarray) -> float:
        """Share of the question (IDF-weighted) that BM25's best chunk contains. Min-max gives BM25's
        best full marks even when it matched only "Kyrgyzstan" of a paraphrased question; scaling
        BM25's weight by this lets dense search lead then (dev MRR@10 0.881 -> 0.888, tuning set
        0.884 -> 0.906, paraphrases there 4 -> 5 of 7)."""
        best = int(np.argmax(keyword))
        if keyword[best] <= 0:
            return 0.0
        return 1.0 - self.keyword_index.missing_share(terms, [self.chunk_rows[best]])

    def rank_scores(self, scores: UnitScores, k: int, mode: str) -> Ranked:
        return self._listed(top(self.chunk_scores(scores, mode), k), mode)

    def parts(self, question: str, dense: bool = True, keyword: bool = True) -> list[Part]:
        """A question in parts ("... Tajikistan and Kyrgyzstan each ...", "..., and how many ...") is
        also asked once per part, the parts encoded in one batch; other questions have none."""
        texts = self.keyword_index.part_questions(question)
        if not texts:
            return []
        return [Part(t, s) for t, s in zip(texts, self.many_unit_scores(texts, dense, keyword))]

    def ranking(self, scores: UnitScores, k: int, mode: str, parts: Sequence[Part] = ()) -> Ranked:
        """The ranking for a question whose unit scores (and parts) are known. The rankings of the
        whole and of each part take turns, so that every part's best passages are near the top (a
        chunk keeps the score of the ranking that placed it)."""
        whole = self.rank_scores(scores, k, mode)
        if not parts:
            return whole
        return _take_turns([whole, *(self.rank_scores(p.scores, k, mode) for p in parts)], k)

    def _listed(self, ranked: Ranked, mode: str) -> Ranked:
        """Keyword and RRF rankings list only chunks with something in common with the question."""
        if mode == "keyword" or (mode == "hybrid" and self.fusion == "rrf"):
            keep = [j for j, v in enumerate(ranked.scores) if v > 0]
            return Ranked([ranked.ids[j] for j in keep], [ranked.scores[j] for j in keep])
        return ranked

    def rank(self, question: str, k: int, mode: str = "hybrid") -> Ranked:
        dense, keyword = mode != "keyword", mode != "dense"
        return self.ranking(self.unit_scores(question, dense, keyword), k, mode, self.parts(question, dense, keyword))

    def search(self, question: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        return self.hits(self.rank(question, k, mode))

    def hits(self, ranked: Ranked) -> list[Hit]:
        return [Hit(self.chunks[i], s, r) for r, (i, s) in enumerate(zip(ranked.ids, ranked.scores), start=1)]

    def unit_rows(self, hits: Sequence[Hit]) -> list[int]:
        """The whole-passage unit of each hit, for KeywordIndex's look-ups."""
        return [self.chunk_rows[self.chunk_position[h.chunk.chunk_id]] for h in hits]

    def dense_scores(self, question: str) -> np.ndarray:
        return self.per_chunk(self.unit_scores(question, keyword=False).dense)


def _take_turns(rankings: Sequence[Ranked], k: int) -> Ranked:
    """Round robin over rankings, each chunk once: the first of each, then the second of each, ..."""
    ids: list[int] = []
    scores: list[float] = []
    for depth in range(max(len(r.ids) for r in rankings)):
        for r in rankings:
            if depth < len(r.ids) and r.ids[depth] not in ids:
                ids.append(r.ids[depth])
                scores.append(r.scores[depth])
    return Ranked(ids[:k], scores[:k])


def _minmax(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
