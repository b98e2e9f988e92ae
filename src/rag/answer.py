"""Pick the sentence that answers, from the top passages, or say that the report does not.

Each sentence of the top passages is scored by how close its embedding is to the question,
how much of the question's keyword weight it carries (BM25, relative to the best unit), whether
it holds the kind of thing asked for (a number for "how many", a date for "when"), and its
passage's rank. The same sentence embeddings and BM25 units serve retrieval, so answering costs
no extra model call. "No answer" is a threshold on the chosen sentence's support, less a penalty
for question words the report never uses, calibrated on the dev split's unanswerable questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.models import Hit, Sentence

_NUMBER_QUESTION = re.compile(r"\b(how (many|much|long|old)|what (number|percentage|share|proportion)|number of|percent)", re.I)
_DATE_QUESTION = re.compile(r"\b(when|what (year|date|month|day)|since when)\b", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|forty|fifty|hundred|thousand|dozens?)\b", re.I)
_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
_LEANS_ON_PREVIOUS = re.compile(r"^(He|She|They|It|This|These|That|Those|Such|Its|Their|His|Her)\b")


@dataclass(frozen=True)
class AnswerParams:
    passages: int = 3
    keyword_weight: float = 0.5
    type_bonus: float = 0.1
    rank_weight: float = 0.0
    unknown_penalty: float = 1.0  # per unit of the question's weight in words the report never uses
    min_support: float = 0.6  # below this the report is taken not to answer


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    index: int  # sentence position in the chunk
    dense: float
    keyword: float  # BM25 of the sentence / best BM25 of any unit, in [0, 1]
    type_match: bool
    score: float

    @property
    def sentence(self) -> Sentence:
        return self.hit.chunk.sentences[self.index]


@dataclass(frozen=True)
class AnswerChoice:
    sentences: tuple[Sentence, ...]
    hit: Hit
    confidence: float


def expected_type(question: str) -> str | None:
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _DATE_QUESTION.search(question):
        return "date"
    return None


def matches_type(text: str, kind: str | None) -> bool:
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "date":
        return bool(_DATE.search(text))
    return False


def candidates(
    question: str,
    hits: list[Hit],
    sentence_rows: dict[tuple[int, int], int],
    chunk_position: dict[str, int],
    dense: np.ndarray,
    keyword: np.ndarray,
    params: AnswerParams,
) -> list[Candidate]:
    """Every sentence of the top passages with its score, best first."""
    kind = expected_type(question)
    best_keyword = float(keyword.max()) if keyword.size and keyword.max() > 0 else 1.0
    out = []
    for hit in hits[: params.passages]:
        position = chunk_position[hit.chunk.chunk_id]
        for j, sentence in enumerate(hit.chunk.sentences):
            row = sentence_rows[(position, j)]
            d, k = float(dense[row]), float(keyword[row]) / best_keyword
            typed = matches_type(sentence.clean, kind)
            score = d + params.keyword_weight * k + params.type_bonus * typed + params.rank_weight / hit.rank
            out.append(Candidate(hit, j, d, k, typed, score))
    return sorted(out, key=lambda c: -c.score)


def support(c: Candidate, params: AnswerParams) -> float:
    """How strongly the chosen sentence is backed: its similarity plus its share of the keyword weight."""
    return c.dense + params.keyword_weight * c.keyword


def choose(ranked: list[Candidate], params: AnswerParams, unknown_share: float = 0.0) -> AnswerChoice | None:
    """The best sentence, unless its support is too weak; a question about things the report never
    names (its words are not in the report's vocabulary) needs correspondingly more support."""
    if not ranked:
        return None
    best = ranked[0]
    confidence = support(best, params) - params.unknown_penalty * unknown_share
    if confidence < params.min_support:
        return None
    sentences = best.hit.chunk.sentences
    picked = [sentences[best.index]]
    if best.index > 0 and _LEANS_ON_PREVIOUS.match(picked[0].clean):
        picked.insert(0, sentences[best.index - 1])  # "They ..." needs the sentence that names them
    return AnswerChoice(tuple(picked), best.hit, round(confidence, 4))
