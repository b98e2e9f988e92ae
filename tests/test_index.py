"""Index build and load: manifest, determinism, staleness, corruption, several documents."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.conftest import copy_corpus
from rag.embed import model_fingerprint
from rag.index import IndexUnavailable, build_index, load_index
from tests.test_parse import SECOND


@pytest.fixture()
def private(tmp_path, settings):
    """A private corpus and index; the embedding cache is shared so builds are quick."""
    return replace(settings, corpus_dir=copy_corpus(tmp_path), index_dir=tmp_path / "index")


def test_manifest_records_what_the_index_was_built_from(settings):
    m = load_index(settings).manifest
    assert m["format_version"] == 1
    assert m["model_name"] == settings.model_name and m["model_sha256"] == model_fingerprint(settings.model_path)
    assert list(m["corpus"]) == ["central-asia-repatriation-2021.txt"]
    assert m["chunking"] == settings.chunking_params()
    assert m["counts"]["footnotes"] == 242 and m["counts"]["chunks"] > 100
    assert m["built_at"] and set(m["artifacts"]) == {"chunks.jsonl", "vectors.faiss", "units.json", "documents.json"}


def test_build_is_deterministic_and_a_noop_when_current(private):
    first = build_index(private, force=True)
    a = {n: (first.path / n).read_bytes() for n in ("chunks.jsonl", "vectors.faiss", "units.json", "documents.json")}
    again = build_index(private)
    assert not again.built and again.path == first.path
    second = build_index(private, force=True)
    assert second.n_embedded == 0  # everything came from the embedding cache
    b = {n: (second.path / n).read_bytes() for n in a}
    assert a == b


def test_missing_index_is_a_clear_error(private):
    with pytest.raises(IndexUnavailable, match="no index has been built.*rag build"):
        load_index(private)


def test_changed_corpus_makes_the_index_stale(private):
    build_index(private)
    report = next(private.corpus_dir.iterdir())
    report.write_text(report.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="stale.*central-asia-repatriation-2021.txt.*rag build"):
        load_index(private)
    assert build_index(private).built
    load_index(private)


def test_changed_chunking_makes_the_index_stale(private):
    build_index(private)
    with pytest.raises(IndexUnavailable, match="chunking settings changed"):
        load_index(replace(private, chunk_target_tokens=private.chunk_target_tokens + 1))


@pytest.mark.parametrize("name", ["vectors.faiss", "chunks.jsonl", "documents.json", "units.json"])
def test_corrupt_or_truncated_file_is_detected(private, name):
    path = build_index(private).path / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexUnavailable, match=f"{name} is corrupt"):
        load_index(private)
    path.unlink()
    with pytest.raises(IndexUnavailable, match=f"{name} is missing"):
        load_index(private)
    assert build_index(private).built


def test_manifest_from_another_model_or_format(private):
    path = build_index(private).path / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "model_sha256": "0" * 64}))
    with pytest.raises(IndexUnavailable, match="another embedding model"):
        load_index(private)
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexUnavailable, match="format version 99"):
        load_index(private)
    path.write_text("{not json")
    with pytest.raises(IndexUnavailable, match="unreadable"):
        load_index(private)


def test_a_second_document_is_indexed_with_its_own_ids(private):
    (private.corpus_dir / "short-note.txt").write_text(SECOND, encoding="utf-8")
    build_index(private)
    stored = load_index(private)
    assert set(stored.documents) == {"central-asia-repatriation-2021", "short-note"}
    note_chunks = [c for c in stored.chunks if c.doc == "short-note"]
    assert note_chunks and all(c.chunk_id.startswith("short-note:") for c in note_chunks)
    assert stored.documents["short-note"]["footnotes"]["2"]["text"] == "Ibid."
    from rag.service import QAService

    service = QAService(private, stored, __import__("rag.index", fromlist=["load_embedder"]).load_embedder(private))
    hits = service.ask("Did most returnees find work within a year?", k=3).passages
    top = next(p for p in hits if p.doc == "short-note")
    assert top.citations[0].number == 3 and top.citations[0].text == "Interview with a social worker."
