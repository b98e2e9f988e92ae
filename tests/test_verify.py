"""The shipped answer verifier: it loads, reads question and sentence together, and fails clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.config import packaged_model_path
from rag.verify import VERIFIER_DIR, Verifier, VerifierUnavailable


@pytest.fixture(scope="module")
def verifier(settings):
    return Verifier(VERIFIER_DIR / "model.onnx", Path(packaged_model_path()) / "tokenizer.json", threads=1)


def test_a_sentence_that_answers_scores_above_a_near_miss(verifier):
    sentence = "On April 30th, 2019, 84 children were repatriated to Tajikistan from the conflict zone."
    answered = verifier.logit("How many children did Tajikistan repatriate in April 2019?", sentence)
    near_miss = verifier.logit("How many of the children Tajikistan repatriated in April 2019 were orphans?", sentence)
    off_topic = verifier.logit("Who won the football world cup in 1998?", sentence)
    assert answered > 0 > off_topic
    assert answered > near_miss


def test_a_long_question_or_sentence_is_cut_to_fit_not_refused(verifier):
    assert isinstance(verifier.logit("What happened?", "Returnees were met by officials. " * 200), float)
    assert isinstance(verifier.logit("A long question " * 80, "Returnees were met by officials."), float)


def test_a_missing_or_corrupt_verifier_is_a_clear_error(settings, tmp_path):
    tokenizer = Path(packaged_model_path()) / "tokenizer.json"
    with pytest.raises(VerifierUnavailable, match="is missing"):
        Verifier(tmp_path / "model.onnx", tokenizer)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes((VERIFIER_DIR / "model.onnx").read_bytes()[:4096])
    with pytest.raises(VerifierUnavailable, match="cannot be loaded"):
        Verifier(broken, tokenizer)


def test_the_api_says_so_when_the_verifier_is_missing(settings, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from rag.api import create_app

    monkeypatch.setattr("rag.verify.VERIFIER_DIR", tmp_path)
    with TestClient(create_app(settings)) as client:
        r = client.post("/query", json={"question": "What was Operation Mehr?"})
        assert r.status_code == 503 and "verifier" in r.json()["error"] and "rag build" not in r.json()["error"]
        assert client.get("/health").status_code == 503


def test_the_readme_fast_path_switches_the_verifier_off_with_its_own_fitted_model(settings, monkeypatch):
    """The README's fast path, read from the README itself, so that a refit cannot leave it stale."""
    from rag.answer import Evidence
    from rag.config import PROJECT_ROOT, Settings
    from rag.service import QAService

    command = re.search(r"RAG_ANSWER_VERIFIER=0 .*? make run", (PROJECT_ROOT / "README.md").read_text(), re.S)
    assert command, "the README gives the fast path's command"
    for name, value in re.findall(r"(RAG_[A-Z_]+)=(\S+)", command.group()):
        monkeypatch.setenv(name, value)
    fast = Settings.from_env()
    assert fast.answer_no_answer_weights[-1] == 0.0 and fast.answer_no_answer_weights != settings.answer_no_answer_weights
    assert all(w * sign >= 0 for w, sign in zip(fast.answer_no_answer_weights[1:], Evidence.signs(), strict=True))
    service = QAService.open(fast)
    assert service.verifier is None
    assert "84 children" in service.ask("How many children did Tajikistan bring back from Iraq?").answer.text
    assert service.ask("How many moons does Jupiter have?").answer is None
