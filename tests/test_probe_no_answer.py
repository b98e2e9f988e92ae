"""eval/probe_no_answer.py: the occlusion probe's question variants and its precision-at-recall."""

from __future__ import annotations

import sys

import numpy as np

from rag.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "eval"))
import probe_no_answer as probe  # noqa: E402

STOP = {"how", "many", "of", "the", "were"}


def content_terms(word: str) -> list[str]:
    return [] if word.lower() in STOP else [word.lower()]


def test_each_content_word_is_taken_out_once_and_the_rest_kept():
    variants = probe.without_each_word("How many of the 79 children were girls?", content_terms)
    assert variants == ["How many of the children were girls?", "How many of the 79 were girls?", "How many of the 79 children were ?"]


def test_a_question_of_stopwords_alone_has_no_variants():
    assert probe.without_each_word("How many were?", content_terms) == []


def test_precision_at_recall_is_read_at_the_lowest_threshold_that_reaches_it():
    answerable = np.array([0, 0, 1, 1, 1, 1])
    p_answer = np.array([0.1, 0.6, 0.3, 0.7, 0.8, 0.9])
    # recall 0.5 is reached once the first unanswerable question (0.1) is below the threshold, with no false alarm yet
    assert probe.precision_at_recall(p_answer, answerable, 1.0, 0.5) == 1.0
    # recall 1.0 needs the threshold above 0.6, which also refuses the answerable question at 0.3
    assert probe.precision_at_recall(p_answer, answerable, 1.0, 1.0) == 2 / 3
