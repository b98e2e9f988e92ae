"""Bounded load on a real server: parallel requests get the same answers as sequential ones, and no 5xx."""

from __future__ import annotations

import asyncio
import os

import httpx

from rag.gold import load_gold
from rag.config import PROJECT_ROOT
from tests.conftest import SAMPLE_QUESTIONS

REQUESTS = int(os.environ.get("RAG_LOAD_REQUESTS", "5000"))
CONCURRENCY = 16

QUESTIONS = SAMPLE_QUESTIONS + ["Which countries repatriated men?", "What is the Pavlodar Foundation?"]


def _ranking(body: dict) -> list[tuple[str, float]]:
    return [(p["chunk_id"], round(p["score"], 5)) for p in body["passages"]]


def test_parallel_load_gives_the_sequential_answers(live_server):
    gold = PROJECT_ROOT / "eval" / "gold.jsonl"
    questions = QUESTIONS + ([q.question for q in load_gold(gold)][:40] if gold.is_file() else [])
    with httpx.Client(base_url=live_server, timeout=30) as client:
        expected = {q: _ranking(client.post("/query", json={"question": q}).json()) for q in questions}

    async def run() -> tuple[int, int, int]:
        statuses: dict[int, int] = {}
        wrong = 0
        jobs = iter(range(REQUESTS))
        async with httpx.AsyncClient(base_url=live_server, timeout=60,
                                     limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
            async def worker() -> None:
                nonlocal wrong
                for i in jobs:
                    q = questions[i % len(questions)]
                    r = await client.post("/query", json={"question": q})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200 and _ranking(r.json()) != expected[q]:
                        wrong += 1

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        server_errors = sum(n for code, n in statuses.items() if code >= 500)
        return statuses.get(200, 0), server_errors, wrong

    ok, server_errors, wrong = asyncio.run(run())
    print(f"{REQUESTS} requests at concurrency {CONCURRENCY}: {ok} ok, {server_errors} 5xx, {wrong} wrong")
    assert server_errors == 0 and wrong == 0 and ok == REQUESTS
