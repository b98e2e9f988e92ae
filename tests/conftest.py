"""Shared fixtures: the parsed report (fast, no model) and the real service over the real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.parse import parse_file

# Questions of several kinds (numbers, names, why, another script) shared by the tests that need a handful.
SAMPLE_QUESTIONS = [
    "How many children did Tajikistan bring back from Iraq?",
    "What was Operation Meerim?",
    "How long were Kazakh returnees kept in quarantine?",
    "Why did Uzbekistan not imprison returning women?",
    "Операция Жусан",
    "What role did UNICEF play in the children's rehabilitation?",
]

REPORT = PROJECT_ROOT / "corpus" / "central-asia-repatriation-2021.txt"
DOC_ID = REPORT.stem


@pytest.fixture(scope="session")
def report():
    return parse_file(REPORT)


@pytest.fixture(scope="session")
def report_text() -> str:
    return REPORT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The project's own index/ (built once if missing or stale; a no-op when current)."""
    from rag.index import build_index

    s = Settings.from_env()
    build_index(s)
    return s


@pytest.fixture(scope="session")
def service(settings):
    from rag.service import QAService

    return QAService.open(settings)


@pytest.fixture(scope="session")
def embedder(service):
    return service.retriever.embedder


def copy_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / REPORT.name).write_bytes(REPORT.read_bytes())
    return corpus


@pytest.fixture(scope="session")
def live_server(settings):
    """A real uvicorn server on 127.0.0.1 over the project's index, for the tests that need HTTP."""
    from rag.bench import free_port, start_server, wait_until_answering

    port = free_port()
    process = start_server(port)
    try:
        wait_until_answering(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
