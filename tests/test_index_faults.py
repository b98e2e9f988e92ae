"""Index faults end to end: a killed build, a stale index under the server, and `rag build` repairing it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.index import IndexUnavailable, build_index, load_index
from tests.conftest import copy_corpus


@pytest.fixture()
def private(tmp_path, settings):
    return replace(settings, corpus_dir=copy_corpus(tmp_path), index_dir=tmp_path / "index")


def _env(s, **extra):
    return {**os.environ, "RAG_CORPUS_DIR": str(s.corpus_dir), "RAG_INDEX_DIR": str(s.index_dir), "RAG_CACHE_DIR": str(s.cache_dir), **extra}


def test_a_killed_build_leaves_the_previous_index_usable(private, tmp_path):
    before = build_index(private)
    # An empty cache makes the next build export the model and embed everything: seconds of work to interrupt.
    cold = replace(private, cache_dir=tmp_path / "cold-cache")
    build = subprocess.Popen([sys.executable, "-m", "rag.cli", "build", "--force"], env=_env(cold),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    assert build.poll() is None, "the build finished before it could be killed"
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)
    stored = load_index(private)
    assert stored.path == before.path and len(stored.chunks) == before.n_chunks
    assert build_index(private, force=True).built  # and the next build goes through


def test_stale_index_makes_the_server_unhealthy_until_rebuilt(private):
    build_index(private)
    report = next(private.corpus_dir.iterdir())
    report.write_text(report.read_text(encoding="utf-8").replace("84 children", "85 children", 1), encoding="utf-8")
    with TestClient(create_app(private)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert "stale" in health.json()["error"] and "rag build" in health.json()["error"]
        assert client.post("/query", json={"question": "How many children?"}).status_code == 503
    result = subprocess.run([sys.executable, "-m", "rag.cli", "build"], env=_env(private), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with TestClient(create_app(private)) as client:
        assert client.get("/health").status_code == 200
        texts = [p["text"] for p in client.post("/query", json={"question": "How many children did Tajikistan bring back from Iraq?"}).json()["passages"]]
        assert any("85 children" in t for t in texts)


def test_serve_no_build_refuses_to_answer_from_a_missing_index(private):
    from rag.bench import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--no-build", "--port", str(port)], env=_env(private),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        import httpx

        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert r.status_code == 503 and "no index has been built" in r.json()["error"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_build_of_a_malformed_corpus_file_names_the_file(private):
    (private.corpus_dir / "broken.txt").write_bytes(b"Title\n\n\xff\xfe not text\n")
    result = subprocess.run([sys.executable, "-m", "rag.cli", "build"], env=_env(private), capture_output=True, text=True)
    assert result.returncode == 2
    assert "broken.txt:3" in result.stderr and "not valid UTF-8" in result.stderr
    with pytest.raises(IndexUnavailable):
        load_index(private)  # nothing half-built was left behind as current
