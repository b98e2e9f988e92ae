"""Chunks: nothing lost, nothing repeated, never across a heading, never cut by the model."""

from __future__ import annotations

import pytest

from rag.chunk import ChunkingParams, chunk_document, table_passages, tiktoken_counter
from rag.parse import MARKER_RE


@pytest.fixture(scope="module")
def chunks(report, embedder, settings):
    params = ChunkingParams(settings.chunk_target_tokens, settings.chunk_min_tokens, settings.chunk_overlap_sentences)
    return chunk_document(report, params, tiktoken_counter(), embedder.fits)


def test_every_body_sentence_lands_in_a_chunk(report, chunks):
    placed = {(s.start, s.end) for c in chunks if c.kind in ("text", "front_matter") for s in c.sentences}
    for p in report.paragraphs:
        for s in p.sentences:
            assert (s.start, s.end) in placed, s.clean


def test_no_two_chunks_have_the_same_text(chunks):
    texts = [c.clean for c in chunks]
    assert len(texts) == len(set(texts))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chunks_never_cross_a_heading(report, chunks):
    path_of = {(s.start, s.end): p.heading_path for p in report.paragraphs for s in p.sentences}
    for c in chunks:
        if c.kind in ("text", "front_matter"):
            assert {path_of[(s.start, s.end)] for s in c.sentences} == {c.heading_path}


def test_embedded_text_is_never_truncated_by_the_model(chunks, embedder):
    for c in chunks:
        for _, text in c.embedding_units():
            assert embedder.token_count(text) <= embedder.max_seq_length


def test_chunk_records_are_complete(chunks, report_text):
    count = tiktoken_counter()
    for c in chunks:
        assert c.doc == "central-asia-repatriation-2021" and c.chunk_id.startswith(c.doc + ":")
        assert c.heading_path and c.text and c.clean and not MARKER_RE.search(c.clean)
        assert 0 <= c.start < c.end <= len(report_text)
        assert c.n_tokens == count(c.clean)
        assert c.n_tokens <= 128 or c.kind == "table" or len(c.sentences) == 1
        assert list(c.footnotes) == [int(n) for n in __import__("re").findall(r"\[(\d+)\]", c.text)]


def test_chunking_is_deterministic(report, embedder, chunks, settings):
    params = ChunkingParams(settings.chunk_target_tokens, settings.chunk_min_tokens, settings.chunk_overlap_sentences)
    again = chunk_document(report, params, tiktoken_counter(), embedder.fits)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]


def test_table_is_retrievable_whole_and_line_by_line(report, chunks):
    passages = {p.text: p for p in table_passages(report.tables[0])}
    kz = "Table 1. Number of repatriates by country. Kazakhstan (Operations Zhusan and Rusafa): men 37, women 188, children 497, total 722, number of phases 5, repatriation sites Iraq and Syria."
    assert passages[kz].kind == "table_row" and passages[kz].answer == kz
    children = "Table 1. Number of repatriates by country. Children 497 334 84 79. Children: Kazakhstan (Operations Zhusan and Rusafa) 497, Uzbekistan (Operation Mehr) 334, Tajikistan 84, Kyrgyzstan (Operation Meerim) 79."
    assert passages[children].kind == "table_row"
    # an answer drawn from a row reads in words, without the printed row that is there for search
    assert passages[children].answer == children.replace(" Children 497 334 84 79.", "")
    # and each figure alone, for a question that asks for one cell
    women_kz = "Table 1. Number of repatriates by country. Women 188 141 0 0. Kazakhstan (Operations Zhusan and Rusafa): women 188."
    assert passages[women_kz].kind == "table_cell" and passages[women_kz].answer == women_kz.replace(" Women 188 141 0 0.", "")
    kinds = [c.kind for c in chunks]
    assert kinds.count("table") == 1 and kinds.count("table_row") == 4 + 6 and kinds.count("table_cell") == 4 * 6


def test_front_matter_chunks_are_marked_as_such(chunks):
    front = [c for c in chunks if c.kind == "front_matter"]
    assert {c.heading_path for c in front} == {("Title page",), ("About Us",)}
    assert any("Cholpon Orozobekova" in c.text for c in front) and all(c.ordinal < len(front) for c in front)


def test_long_sentence_is_split_rather_than_truncated(report, embedder):
    from dataclasses import replace

    long = replace(report.paragraphs[10], sentences=(replace(report.paragraphs[10].sentences[0], clean=" ".join(["word"] * 600), display=" ".join(["word"] * 600)),))
    doc = replace(report, paragraphs=(long,), tables=())
    parts = chunk_document(doc, ChunkingParams(), tiktoken_counter(), embedder.fits)
    assert len(parts) > 1 and sum(c.clean.count("word") for c in parts) == 600
    assert all(embedder.fits(c.embedding_text()) for c in parts)
