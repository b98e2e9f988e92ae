"""eval/train_encoder.py: pairs hold their evidence, no batch repeats a question or a passage, and the
shipped encoder is the one it trained."""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.config import ENCODER_DIR, PROJECT_ROOT, packaged_model_path
from rag.embed import model_fingerprint
from rag.gold import GoldQuestion, normalize
from rag.index import load_embedder

sys.path.insert(0, str(PROJECT_ROOT / "eval"))
import train_encoder  # noqa: E402


def question(i: int, evidence: str = "the 79 children") -> GoldQuestion:
    return GoldQuestion(f"q{i}", f"Question {i}?", ("79",), (evidence,), (), "factoid")


def test_a_question_is_paired_with_the_smallest_units_that_hold_its_evidence():
    units = [(0, "Kyrgyzstan. Kyrgyzstan brought back the 79 children. Later, more."), (0, "Kyrgyzstan. Kyrgyzstan brought back the 79 children."),
             (1, "Tajikistan. Nothing about it."), (2, "Uzbekistan. Of the 79 children, some were orphans; the rest were not.")]
    pairs = train_encoder.pairs_of(question(1), units)
    assert [p.text for p in pairs] == [units[1][1], units[0][1]]
    assert train_encoder.pairs_of(question(2, "no such words"), units) == []


def test_no_batch_repeats_a_question_or_a_passage():
    pairs = [train_encoder.Pair(f"Question {i % 40}?", f"text {i}", i % 25) for i in range(200)]
    batches = train_encoder.batches(pairs, 32, random.Random(0))
    assert sorted((p.question, p.text) for b in batches for p in b) == sorted((p.question, p.text) for p in pairs)
    for b in batches:
        assert len(b) <= 32
        assert len({p.question for p in b}) == len(b) and len({p.chunk for p in b}) == len(b)


def test_the_shipped_encoder_is_the_one_fine_tuned_on_the_report(settings, service, embedder):
    """Not the packaged weights under another name: on the paraphrased questions it was trained on,
    it ranks the passage holding the evidence higher among all the report's passages than the base
    model does (mean reciprocal rank)."""
    assert Path(settings.model_path) == ENCODER_DIR
    assert model_fingerprint(settings.model_path) != model_fingerprint(packaged_model_path())
    chunks = service.retriever.chunks
    passages = [c.embedding_text() for c in chunks]
    trained = []
    for q in train_encoder.training_questions():
        holding = [i for i, c in enumerate(chunks) if any(normalize(e) in normalize(c.text) for e in q.evidence)]
        if q.type == "paraphrase" and holding:
            trained.append((q.question, holding))
    assert len(trained) >= 30

    def mrr(model) -> float:
        p = np.array(model.encode(passages))
        q = np.array(model.encode([question for question, _ in trained]))
        ranks = [int(np.sum(p @ v > max(p[i] @ v for i in holding))) + 1 for v, (_, holding) in zip(q, trained)]
        return float(np.mean([1 / r for r in ranks]))

    tuned, base = mrr(embedder), mrr(load_embedder(replace(settings, model_path=packaged_model_path())))
    assert tuned > base + 0.05, (tuned, base)
