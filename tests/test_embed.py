"""The fast query path (ONNX Runtime + tokenizers) against the plain one (sentence-transformers on PyTorch)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.embed import FUSED, _graph
from rag.index import cached_model_fingerprint, load_embedder
from rag.service import QAService
from tests.conftest import SAMPLE_QUESTIONS

QUESTIONS = SAMPLE_QUESTIONS + [
    "x",
    "A long question " * 80,  # over the model's 256 word pieces: both paths truncate alike
]


@pytest.fixture(scope="module")
def torch_service(settings, service):
    return QAService(replace(settings, backend="torch"), service.stored, load_embedder(replace(settings, backend="torch")), service.verifier)


def test_same_vectors_as_pytorch(embedder, torch_service):
    fast = embedder.encode(QUESTIONS)
    plain = torch_service.retriever.embedder.encode(QUESTIONS)
    assert fast.shape == plain.shape == (len(QUESTIONS), 384)
    assert np.abs(fast - plain).max() < 1e-4
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_same_ranking_and_scores_as_pytorch(service, torch_service, mode):
    for q in QUESTIONS:
        fast = service.ask(q, k=10, mode=mode)
        plain = torch_service.ask(q, k=10, mode=mode)
        assert [p.chunk_id for p in fast.passages] == [p.chunk_id for p in plain.passages]
        assert np.allclose([p.score for p in fast.passages], [p.score for p in plain.passages], atol=1e-4)


def test_token_count_matches_the_model_tokenizer(embedder, torch_service):
    for q in QUESTIONS:
        assert embedder.token_count(q) == torch_service.retriever.embedder.token_count(q)


def test_the_fused_graph_is_exported_and_used(embedder, settings):
    graph_dir = settings.cache_dir / f"onnx-{cached_model_fingerprint(settings.model_path)[:12]}" / "onnx"
    assert (graph_dir / FUSED).is_file()
    assert Path(embedder.graph) == graph_dir / FUSED


def test_without_a_fused_graph_the_plain_export_serves(tmp_path):
    (tmp_path / "onnx").mkdir()
    assert _graph(tmp_path) == tmp_path / "onnx" / "model.onnx"
