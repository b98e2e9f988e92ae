"""The HTTP API with the real model and the real index (FastAPI's TestClient, in-process)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app


@pytest.fixture(scope="module")
def client(settings, service):
    with TestClient(create_app(settings, service)) as c:
        yield c


def test_tajikistan_children_question_finds_the_84_children_passage(client):
    r = client.post("/query", json={"question": "How many children did Tajikistan bring back from Iraq?", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"question", "passages", "timing_ms"}
    top3 = body["passages"][:3]
    hit = next(p for p in top3 if "84 children" in p["text"])
    assert 70 in [c["number"] for c in hit["citations"]]
    note = next(c for c in hit["citations"] if c["number"] == 70)
    assert note["text"].startswith("Raychev.")


def test_passage_fields(client):
    body = client.post("/query", json={"question": "What was Operation Mehr?"}).json()
    assert len(body["passages"]) == 5
    for rank, p in enumerate(body["passages"], start=1):
        assert p["rank"] == rank
        assert set(p) >= {"rank", "score", "chunk_id", "doc", "heading_path", "text", "citations"}
        assert p["doc"] == "central-asia-repatriation-2021"
        assert [c["number"] for c in p["citations"]] == [int(n) for n in __import__("re").findall(r"\[(\d+)\]", p["text"])]
    scores = [p["score"] for p in body["passages"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_each_mode_is_selectable(client, mode):
    body = client.post("/query", json={"question": "Operation Meerim children Kyrgyzstan", "k": 3, "mode": mode}).json()
    assert body["mode"] == mode and len(body["passages"]) == 3


def test_health_says_what_is_loaded(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["index_loaded"] is True
    assert body["documents"]["central-asia-repatriation-2021"]["footnotes"] == 242
    assert body["chunks"] > 100


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    assert "/query" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"question": ""}, "empty"),
        ({"question": "???"}, "no words"),
        ({"question": "\U0001f642\u200b"}, "no words"),
        ({"question": "ok", "k": True}, "k"),
        ({"question": "ok", "k": "5"}, "k"),
        ({"question": "ok", "max_tokens": True}, "max_tokens"),
        ({"question": "   "}, "empty"),
        ({"question": "x" * 2001}, "2000"),
        ({"question": "ok", "k": 0}, "k"),
        ({"question": "ok", "k": 51}, "k"),
        ({"question": "ok", "k": "five"}, "k"),
        ({"question": "ok", "mode": "psychic"}, "mode"),
        ({"k": 3}, "question"),
        ({"question": "bell\x07"}, "control characters"),
    ],
)
def test_bad_requests_get_422_with_a_readable_message(client, payload, fragment):
    r = client.post("/query", json=payload)
    assert r.status_code == 422
    assert fragment in r.json()["error"]


def test_invalid_json_is_422_and_says_where(client):
    r = client.post("/query", content=b'{"question": "abc"', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"] and "character 18" in r.json()["error"]


def test_a_body_that_is_not_a_json_object_says_so(client):
    r = client.post("/query", content=b'"How many?"', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON object" in r.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "x y", "k": NaN}',
        b'{"question": NaN}',
        b'{"question": "x y", "max_tokens": -Infinity}',
        b'{"question": "\\ud800"}',
        b'{"question": "ok", "extra\\ud800": 1}',
    ],
)
def test_values_json_cannot_echo_get_a_422_not_a_500(client, body):
    """The error once echoed the input, and a NaN or a lone surrogate cannot be written back as JSON."""
    r = client.post("/query", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]


def test_an_unknown_document_is_404_when_listing_sources(client):
    r = client.get("/sources", params={"doc": "no-such-report"})
    assert r.status_code == 404 and "central-asia-repatriation-2021" in r.json()["error"]


@pytest.mark.parametrize(
    "method, url, fragment",
    [
        ("get", "/sources?text=Reuters", "text: unknown query parameter; /sources takes author, q, doc"),
        ("get", "/sources/lapasov-2021-interview?document=x", "document: unknown query parameter; /sources/lapasov-2021-interview takes doc"),
        ("get", "/health?verbose=1", "verbose: unknown query parameter; /health takes no query parameters"),
        ("post", "/query?k=3", "k: unknown query parameter; /query takes its parameters in the JSON body"),
    ],
)
def test_an_unknown_query_parameter_is_422_not_ignored(client, method, url, fragment):
    """Ignored, `?text=` listed every source as if nothing had been filtered; `?k=` on /query was dropped unseen."""
    response = getattr(client, method)(url, **({"json": {"question": "What is Operation Zhusan?"}} if method == "post" else {}))
    assert response.status_code == 422 and response.json()["error"] == fragment


def test_the_web_page_keeps_its_question_in_the_query_string(client):
    assert client.get("/?q=What+is+Operation+Zhusan%3F").status_code == 200
    assert client.get("/sources", params={"q": "Reuters", "doc": "central-asia-repatriation-2021"}).status_code == 200


def test_oversized_body_is_413(client):
    r = client.post("/query", content=b"x" * 20_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]


def test_missing_index_reports_unhealthy_and_503(tmp_path, settings):
    from dataclasses import replace

    broken = replace(settings, index_dir=tmp_path / "no-index")
    with TestClient(create_app(broken)) as c:
        h = c.get("/health")
        assert h.status_code == 503 and "rag build" in h.json()["error"]
        q = c.post("/query", json={"question": "anything"})
        assert q.status_code == 503 and q.json()["error"].count("rag build") == 1
