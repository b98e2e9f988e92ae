"""Pick the sentence that answers, from the top passages, or say that the report does not.

Each sentence of the top passages is scored by how close its embedding is to the question, how
much of the question's keyword weight it carries (BM25, relative to the best unit), and whether it
holds the kind of thing asked for (a sum for "how much did it cost", a duration for "how long", a
share, an age, a date, a number). The same sentence embeddings and BM25 units serve retrieval, so
answering costs no extra model call. A second sentence of the same passage joins the answer when
it scores nearly as well, so an answer reads as one excerpt with its own footnotes; a question in
parts ("..., and how many did Kyrgyzstan?") also gets each part's best sentence, as an excerpt of
its own passage.

"No answer" comes from a small logistic model over what a sentence has going for it
(similarity, keyword share, the verifier's reading of question and sentence together) and what a
near miss looks like: the question's rarer words are absent from the top passages or the sentence
("Turkmenistan", "budget"), or it asks for a kind of thing the sentence does not hold besides what
the question itself gives. It judges the best sentence and the runner-up, and the likelier decides.
Its weights and threshold are fitted on the dev split and the tuning sets (eval/tune_answer.py);
its probability is the answer's `confidence`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

from rag.answer_type import expected_type, given_figures, holds_new
from rag.models import Hit, Sentence

# The states the report compares, by any form of their names ("Kyrgyz", "Kyrgyzstan's", "Tajiks").
_STATES = {state: re.compile(r"\b" + stem, re.I) for state, stem in
           (("Kazakhstan", "kazakh"), ("Kyrgyzstan", "kyrgyz"), ("Tajikistan", "tajik"), ("Uzbekistan", "uzbek"), ("Turkmenistan", "turkmen"))}
_CONTRASTS = re.compile(r"\b(besides|other than|apart from|except|unlike|compared?|than|differ\w*|contrast\w*|similar\w*|like)\b", re.I)
_LEANS_ON_PREVIOUS = re.compile(r"^(He|She|They|It|This|These|That|Those|Such|Its|Their|His|Her)\b")
_LEANS_ON_NEXT = re.compile(  # "... on two conditions." announces what the next sentence lists
    r"(:|\b(two|three|four|five|several|following) (conditions|reasons|factors|stages|phases|steps|ways|measures|goals|aims|"
    r"objectives|principles|components|pillars|areas|types|categories|groups|questions|options)\.)$"
)


MAX_SENTENCES = 2  # "the sentence (or two)": a close second only when the first stands alone
# The best sentence and the runner-up are each judged; the answer is as likely as the likelier. On the
# 469 tuning questions the verifier never saw, that cut false alarms from 8 of 228 to 2 at the same
# threshold, and let 8 more of 241 unanswerable questions through; a third contender gained nothing,
# and neither did a logistic model over both contenders' evidence in place of the likelier one
# (10-fold AUC 0.899 against 0.896, but 7 false alarms against 2 at the same recall).
CONTENDERS = 2


@dataclass(frozen=True)
class AnswerParams:
    passages: int = 3
    keyword_weight: float = 0.5
    type_bonus: float = 0.1
    second_margin: float = 0.0  # a second sentence of the same passage joins when it scores within this of the first
    # "No answer" model: logistic weights over Evidence fields (bias first), and the threshold on
    # the probability that the report answers, below which it is taken not to.
    no_answer_weights: tuple[float, ...] = (0.0,) * 8
    min_confidence: float = 0.5

    def __post_init__(self) -> None:
        expected = 1 + len(fields(Evidence))
        if len(self.no_answer_weights) != expected:
            raise ValueError(f"no_answer_weights needs {expected} numbers (a bias, then one per Evidence field), not {len(self.no_answer_weights)}")


@dataclass(frozen=True)
class Evidence:
    """What the chosen sentence has going for it (sign +1) and what a near miss looks like (-1).

    The no-answer model reads these; its fit (eval/tune_answer.py) holds each weight to its field's
    sign. Unconstrained, the correlated "missing" features traded weight: one fit put +0.84 on
    missing_top, so words that no top passage mentions counted *for* an answer.
    """

    dense: float = field(metadata={"sign": 1})  # its embedding similarity to the question
    keyword: float = field(metadata={"sign": 1})  # its BM25 share, relative to the best unit
    missing_top: float = field(metadata={"sign": -1})  # share of the question's weight (IDF) that no top passage mentions
    missing_sentence: float = field(metadata={"sign": -1})  # ... that the sentence itself does not mention
    missing_name: float = field(metadata={"sign": -1})  # rarity of a name in the question that no top passage mentions, in [0, 1]
    mismatch: float = field(metadata={"sign": -1})  # 1 when a kind of thing was asked for (a number, a date ...) and the sentence holds none besides the question's own
    verified: float = field(metadata={"sign": 1})  # the verifier's logit for the question and the sentence read together (verify.py)

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def signs(cls) -> tuple[int, ...]:
        """The direction each field may pull the probability of an answer, in `vector()` order."""
        return tuple(f.metadata["sign"] for f in fields(cls))


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    index: int  # sentence position in the chunk
    row: int  # its unit row in the index
    dense: float
    keyword: float  # BM25 of the sentence / best BM25 of any unit, in [0, 1]
    type_match: bool | None  # None: the question asks for no particular kind of thing
    score: float
    elsewhere: frozenset[str] = frozenset()  # the states it speaks of, when the question asks about another (other_states)

    @property
    def sentence(self) -> Sentence:
        return self.hit.chunk.sentences[self.index]


@dataclass(frozen=True)
class Excerpt:
    """Sentences of one passage, in reading order."""

    hit: Hit
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class AnswerChoice:
    excerpts: tuple[Excerpt, ...]  # the best sentence's first; then, for a question in parts, other parts' sentences
    confidence: float
    # A footnote or source look-up cites only the notes asked about: "Which passages cite the New York Times?"
    # is not answered by the other source a sentence also cites. None: every note of every excerpt.
    cites: frozenset[int] | None = None

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for e in self.excerpts for s in e.sentences)


def candidates(
    question: str,
    hits: list[Hit],
    sentence_rows: dict[tuple[int, int], int],
    chunk_position: dict[str, int],
    dense: np.ndarray,
    keyword: np.ndarray,
    params: AnswerParams,
    whole: str | None = None,
) -> list[Candidate]:
    """Every sentence of the top passages with its score, best first. For a part of a question (`whole`)
    that names no state, the states asked about are the whole's: "..., and how many were girls?"."""
    kind, given = expected_type(question), given_figures(question)
    about = question if whole is None or states_named(question) else whole
    best_keyword = float(keyword.max()) if keyword.size and keyword.max() > 0 else 1.0
    out = []
    for hit in hits[: params.passages]:
        position = chunk_position[hit.chunk.chunk_id]
        for j, sentence in enumerate(hit.chunk.sentences):
            row = sentence_rows[(position, j)]
            d, k = float(dense[row]), float(keyword[row]) / best_keyword
            typed = holds_new(sentence.clean, kind, given) if kind else None
            score = d + params.keyword_weight * k + params.type_bonus * bool(typed)
            out.append(Candidate(hit, j, row, d, k, typed, score, other_states(about, sentence.clean, hit.chunk.heading_path)))
    return sorted(out, key=lambda c: -c.score)


@lru_cache(maxsize=8192)  # the question and each heading path come back once per sentence of the top passages
def states_named(text: str) -> frozenset[str]:
    return frozenset(state for state, pattern in _STATES.items() if pattern.search(text))


def other_states(question: str, sentence: str, heading_path: Sequence[str]) -> frozenset[str]:
    """The report's states a sentence speaks of (in itself or its section's heading), when the question
    names one or more and neither names any of those: "How many Uzbek women remain in Al-Hawl?" is not
    answered by "Approximately 300 women and children with Kyrgyz citizenship remain ...". The heading
    counts too, because a sentence in the Kyrgyz section may name only the state it contrasts ("...,
    contrasting with Kazakhstan's approach"). A question that contrasts states ("besides Kazakhstan",
    "unlike Uzbekistan") may be answered by another, so it is never judged so. Empty when the sentence may answer."""
    asked = states_named(question)
    if not asked or _CONTRASTS.search(question):
        return frozenset()
    said = states_named(sentence) | states_named(" ".join(heading_path))
    return said if not said & asked else frozenset()


def contenders(ranked: list[Candidate]) -> list[Candidate]:
    """The best sentence and the runner-up (CONTENDERS), a runner-up that repeats the best left out.

    Chunks overlap by a sentence, so for a fifth of the tuning questions the runner-up is the best
    sentence again, from the next passage: judging it again would only cost a verifier call. Taking
    the next distinct sentence instead was tried: on the 469 questions the verifier never saw it
    caught 147 unanswerable questions against 149, with the same 2 false alarms of 228."""
    top = ranked[:CONTENDERS]
    return [c for i, c in enumerate(top) if all(c.sentence.clean != o.sentence.clean for o in top[:i])]


def evidence(best: Candidate, missing_top: float, missing_sentence: float, missing_name: float, verified: float) -> Evidence:
    return Evidence(best.dense, best.keyword, missing_top, missing_sentence, missing_name, float(best.type_match is False), verified)


def likelihood(c: Candidate, e: Evidence, params: AnswerParams) -> float:
    """The no-answer model's probability that the sentence answers; 0 for one about another state."""
    return 0.0 if c.elsewhere else answer_probability(e, params)


def answer_probability(e: Evidence, params: AnswerParams) -> float:
    """Probability that the report answers, by the logistic model eval/tune_answer.py fitted."""
    bias, *weights = params.no_answer_weights
    z = bias + sum(w * x for w, x in zip(weights, e.vector()))
    return 1.0 / (1.0 + math.exp(-z))


def choose(
    ranked: list[Candidate],
    params: AnswerParams,
    judged: Sequence[tuple[Candidate, Evidence]],
    part_bests: Sequence[Candidate] = (),
    part_evidence: Sequence[tuple[Candidate, Evidence]] = (),
) -> AnswerChoice | None:
    """The best sentence (with a close second), unless the model says the report likely does not answer.
    `judged` pairs the `contenders` (the best sentence, then the runner-up) with their evidence: when the
    runner-up is the likelier answer it joins the best one, so the answer holds the sentence the confidence rests on.
    `part_bests` (the best sentence for each part of a question in parts) join it, so that a
    question asking about two things gets both. Such a question is answered when the whole is, or
    when every part is (`part_evidence`, each part's best sentence with its evidence): when no one
    sentence answers both parts, the whole question's best sentence reads as a near miss."""
    if not ranked or not judged:
        return None
    best = ranked[0]
    likelihoods = [likelihood(c, e, params) for c, e in judged]
    likeliest = max(range(len(likelihoods)), key=likelihoods.__getitem__)  # the first on a tie: the best sentence
    confidence = likelihoods[likeliest]
    if part_evidence:
        confidence = max(confidence, min(likelihood(c, e, params) for c, e in part_evidence))
    if confidence < params.min_confidence:
        return None
    if best.elsewhere and likeliest > 0:  # the runner-up answers alone: the best sentence is about another state
        best, likeliest = judged[likeliest][0], 0
    picked = _with_neighbours(best)
    second = next((c for c in ranked[1:] if c.hit is best.hit and not c.elsewhere and c.score >= best.score - params.second_margin), None)
    if second is not None and second.sentence not in picked and len(picked) < MAX_SENTENCES:
        picked.append(second.sentence)
    picks = [(best.hit, s) for s in picked]
    if likeliest > 0:
        runner_up = judged[likeliest][0]
        picks.append((runner_up.hit, runner_up.sentence))
    picks += [(c.hit, c.sentence) for c in part_bests if not c.elsewhere]
    return AnswerChoice(excerpts_of(picks), round(confidence, 4))


def excerpts_of(picks: list[tuple[Hit, Sentence]]) -> tuple[Excerpt, ...]:
    """One excerpt per passage, in the order passages were first picked, each in reading order."""
    by_hit: dict[int, tuple[Hit, set[Sentence]]] = {}
    for hit, sentence in picks:
        by_hit.setdefault(id(hit), (hit, set()))[1].add(sentence)
    return tuple(Excerpt(hit, tuple(s for s in hit.chunk.sentences if s in chosen)) for hit, chosen in by_hit.values())


def _with_neighbours(c: Candidate) -> list[Sentence]:
    """ "They ..." needs the sentence that names them; "... on two conditions." the one that gives them."""
    sentences = c.hit.chunk.sentences
    start, end = c.index, c.index + 1
    if c.index > 0 and _LEANS_ON_PREVIOUS.match(sentences[c.index].clean):
        start -= 1
    if end < len(sentences) and _LEANS_ON_NEXT.search(sentences[c.index].clean.rstrip()):
        end += 1
    return list(sentences[start:end])
