"""Retrieval: fusion arithmetic, and each mode over the real index."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rag.retrieve import KeywordIndex, Ranked, _take_turns, reciprocal_rank_fusion, top


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([Ranked([1, 2, 3], [0.9, 0.8, 0.7]), Ranked([3, 1, 4], [9, 8, 7])], k=60)
    assert fused.ids[:2] == [1, 3]
    assert fused.scores[0] == 1 / 61 + 1 / 62
    assert set(fused.ids) == {1, 2, 3, 4}


def test_top_breaks_ties_by_position():
    ranked = top(np.array([0.5, 0.9, 0.5, 0.1], dtype=np.float32), 3)
    assert ranked.ids == [1, 0, 2]


def test_dense_score_is_the_best_of_chunk_and_sentences(service):
    r = service.retriever
    scores = r.dense_scores("How many children did Tajikistan bring back from Iraq?")
    assert scores.shape == (len(r.chunks),) and float(scores.max()) <= 1.0001
    best = int(np.argmax(scores))
    assert "84 children" in r.chunks[best].clean


def test_keyword_mode_returns_only_matching_chunks(service):
    hits = service.retriever.search("Zhusan", k=50, mode="keyword")
    assert hits and all("zhusan" in h.chunk.embedding_text().lower() or "jusan" in h.chunk.embedding_text().lower() for h in hits)


@pytest.mark.parametrize(
    "question, searched",
    [
        ("When did Kyrgyzstan repatriate children?", "Kyrgyzstan repatriate children?"),
        ("According to the report, how many children did Tajikistan bring back?", "children Tajikistan bring back?"),
        ("What did young returnees do when airliners flew above them?", "young returnees when airliners flew above them?"),
        ("What is it?", "What is it?"),  # nothing left: the question as asked
    ],
)
def test_keyword_search_leaves_out_the_opening_and_auxiliaries(question, searched):
    assert KeywordIndex(["a text"]).query_text(question) == searched


def test_question_words_do_not_rank_passages_in_keyword_mode(service):
    """ "when" and "did" were BM25 terms: a passage on documents missing "when they arrived" came first."""
    hits = service.retriever.search("When did Kyrgyzstan repatriate children?", k=5, mode="keyword")
    assert all("kyrgyz" in h.chunk.embedding_text().lower() for h in hits)


def test_non_english_question_still_returns_passages(service):
    result = service.ask("Операция Жусан", k=3)
    assert len(result.passages) == 3


def test_unit_scores_equal_an_exhaustive_faiss_search(service):
    r = service.retriever
    query = r.embedder.encode(["What was Operation Mehr?"])
    scores, ids = r.vectors.search(query, r.vectors.ntotal)
    expected = np.empty(r.vectors.ntotal, dtype=np.float32)
    expected[ids[0]] = scores[0]
    assert np.allclose(r.unit_scores("What was Operation Mehr?", keyword=False).dense, expected, atol=1e-5)


def test_a_question_in_parts_retrieves_a_passage_for_each_part(service):
    r = service.retriever
    assert len(r.keyword_index.part_questions("How many children did Kyrgyzstan and Tajikistan repatriate from Iraq?")) == 2
    assert r.keyword_index.part_questions("How many children did Tajikistan bring back from Iraq?") == []
    question = "How many children did Kyrgyzstan bring back in March 2021, and how many women did Kazakhstan bring back in Zhusan?"
    parts = r.keyword_index.part_questions(question)
    assert len(parts) == 2
    tops = [r.hits(r.rank_scores(r.unit_scores(p), 1, "hybrid"))[0].chunk.chunk_id for p in parts]
    assert set(tops) <= {h.chunk.chunk_id for h in r.search(question, 5)}
    plain = {h.chunk.chunk_id for h in r.hits(r.rank_scores(r.unit_scores(question), 5, "hybrid"))}
    assert not set(tops) <= plain  # what the parts add: the whole question alone misses a part's passage


def test_a_question_joined_to_another_is_asked_in_two_parts(service):
    parts = service.retriever.keyword_index.part_questions
    assert parts("How many did Uzbekistan bring back in the third phase, and how many in the fourth?") == [
        "How many did Uzbekistan bring back in the third phase",
        "how many in the fourth?",
    ]
    assert parts("How long was the quarantine in Kazakhstan, compared with the stay at the Uzbek health resort?") == [
        "How long was the quarantine in Kazakhstan",
        "How long the stay at the Uzbek health resort?",
    ]
    assert parts("How many women and children did Uzbekistan repatriate?") == []  # "and" inside a phrase
    # a bare question word asks the first question again, of what it asks for
    assert parts("How many children did Kyrgyzstan repatriate, and when?") == [
        "How many children did Kyrgyzstan repatriate",
        "when did Kyrgyzstan repatriate children",
    ]


def test_parts_take_turns_at_the_top_of_the_ranking():
    whole, first, second = Ranked([1, 2, 3], [0.9, 0.8, 0.7]), Ranked([4, 1], [0.6, 0.5]), Ranked([2, 5], [0.4, 0.3])
    merged = _take_turns([whole, first, second], 4)
    assert merged.ids == [1, 4, 2, 5] and merged.scores == [0.9, 0.6, 0.4, 0.3]


def test_chunks_holding_the_kind_asked_for_are_marked(service):
    r = service.retriever
    typed = r.typed_chunks("When did Kyrgyzstan repatriate children?")
    marked = {r.chunks[i].clean for i in np.flatnonzero(typed)}
    assert any("On March 16th, 2021, Kyrgyzstan repatriated 79 children" in text for text in marked)
    assert 0 < len(marked) < len(r.chunks) / 2  # a date is in a few passages, not in most
    assert not r.typed_chunks("Who is Christine Jaulmes?").any()  # asks for no kind of figure


def test_a_figure_the_question_gives_does_not_mark_a_chunk(service):
    r = service.retriever
    given = r.typed_chunks("How many people did Kazakhstan repatriate in 2019?")
    plain = r.typed_chunks("How many people did Kazakhstan repatriate?")
    unmarked = [r.chunks[i].clean for i in np.flatnonzero(plain - given)]
    assert unmarked and all(re.search(r"\b2019\b", text) for text in unmarked)  # its only figure is the year given
    assert not np.any(given > plain)


def test_the_type_prior_lifts_only_the_hybrid_scores_of_marked_chunks(service, monkeypatch):
    r = service.retriever
    question = "When did Kyrgyzstan repatriate children?"
    monkeypatch.setattr(r, "type_prior", 0.0)
    without = r.chunk_scores(r.unit_scores(question), "hybrid")
    monkeypatch.setattr(r, "type_prior", 0.2)
    scores = r.unit_scores(question)
    assert scores.typed.any() and np.allclose(r.chunk_scores(scores, "hybrid") - without, 0.2 * scores.typed)
    assert np.array_equal(r.chunk_scores(scores, "keyword"), r.per_chunk(scores.keyword))  # the baselines stay plain
