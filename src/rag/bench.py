"""`rag bench`: measure the query path, the HTTP server, start-up and build, in one run.

A benchmark measures and reports; it never passes or fails. Speeds on a shared machine are
noisy, so comparisons are ratios of medians measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values_ms, dtype=np.float64)
    return {f"p{p}": round(float(np.percentile(v, p)), 2) for p in (50, 95, 99)} | {"n": len(v)}


def time_calls(fn: Callable[[str], Any], questions: Sequence[str], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def plain_baseline(settings: Settings, chunks_text: Sequence[str]) -> Callable[[str], Any]:
    """The plain path: sentence-transformers (PyTorch backend) encodes the question, FAISS flat search."""
    import faiss
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(settings.model_path, device="cpu")
    vectors = model.encode(list(chunks_text), normalize_embeddings=True, convert_to_numpy=True, batch_size=64)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(question: str):
        q = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
        return index.search(np.ascontiguousarray(q, dtype=np.float32), 5)

    return search


# --------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--no-build", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )


def wait_until_answering(port: int, process: subprocess.Popen, timeout: float = 120) -> float:
    """Seconds until the server first answers a query (the cold-start figure)."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            r = httpx.post(f"http://127.0.0.1:{port}/query", json={"question": "What is Operation Mehr?"}, timeout=5)
            if r.status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise TimeoutError("server did not answer in time")


async def _load(port: int, questions: Sequence[str], concurrency: int, total: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                t = time.perf_counter()
                try:
                    r = await client.post("/query", json={"question": questions[i % len(questions)], "k": 5})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {"concurrency": concurrency, "requests": total, "errors": errors, "rps": round(total / wall, 1), **percentiles(latencies)}


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


# --------------------------------------------------------------------------- run


def run_bench(settings: Settings, questions: Sequence[str], requests_per_level: int, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    from rag.service import QAService

    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "questions": len(questions)}

    log("build from scratch (empty index and caches) ...")
    results["build"] = measure_builds(settings)

    service = QAService.open(settings)
    unverified = QAService(settings, service.stored, service.retriever.embedder)  # what the answer verifier costs
    log("plain baseline (PyTorch encode + FAISS flat) ...")
    baseline = plain_baseline(settings, [c.embedding_text() for c in service.retriever.chunks])
    calls = {"ours": service.ask, "without_verifier": unverified.ask, "baseline": baseline}
    for q in questions[:5]:
        for call in calls.values():
            call(q)
    log("in-process latency ...")
    # interleave rounds so drift on a shared machine hits all alike
    ms: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            ms[name] += time_calls(call, questions, 1)
    results["in_process"] = {name: percentiles(times) for name, times in ms.items()}
    results["in_process"]["speedup_p50"] = round(results["in_process"]["baseline"]["p50"] / results["in_process"]["ours"]["p50"], 2)

    log("cold start of the CLI ...")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "ask", "What is Operation Mehr?", "-k", "1"], check=True, capture_output=True)
    results["cold_start_cli_s"] = round(time.perf_counter() - t, 2)

    port = free_port()
    log(f"server on 127.0.0.1:{port}: cold start, then load ...")
    server = start_server(port)
    try:
        results["cold_start_server_s"] = round(wait_until_answering(port, server), 2)
        results["http"] = [asyncio.run(_load(port, questions, c, requests_per_level)) for c in (1, 4, 16)]
        results["server_peak_rss_mb"] = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def measure_builds(settings: Settings) -> dict[str, float]:
    """Full build into an empty folder (no embedding cache, no ONNX export), then a no-change rebuild."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RAG_INDEX_DIR": f"{tmp}/index", "RAG_CACHE_DIR": f"{tmp}/cache"}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag.cli", "build"], check=True, capture_output=True, env={**os.environ, **env})
        scratch = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag.cli", "build"], check=True, capture_output=True, env={**os.environ, **env})
        unchanged = time.perf_counter() - t
    return {"from_scratch_s": round(scratch, 2), "nothing_changed_s": round(unchanged, 2)}


def markdown(results: dict[str, Any]) -> str:
    ip = results["in_process"]
    lines = [
        f"Benchmark {results['date']}, {results['cpus']} CPUs, {results['questions']} gold questions",
        "",
        "| in-process query (warm) | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|",
        f"| ours (default: hybrid, ONNX) | {ip['ours']['p50']} | {ip['ours']['p95']} | {ip['ours']['p99']} |",
        f"| ours without the answer verifier | {ip['without_verifier']['p50']} | {ip['without_verifier']['p95']} | {ip['without_verifier']['p99']} |",
        f"| plain baseline (PyTorch encode + FAISS flat) | {ip['baseline']['p50']} | {ip['baseline']['p95']} | {ip['baseline']['p99']} |",
        f"| speed-up at p50 (baseline / ours) | {ip['speedup_p50']}x | | |",
        "",
        "| HTTP, 127.0.0.1 | requests | non-200 | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in results["http"]:
        lines.append(f"| concurrency {h['concurrency']} | {h['requests']} | {h['errors']} | {h['rps']} | {h['p50']} | {h['p95']} | {h['p99']} |")
    b = results["build"]
    lines += [
        "",
        "| start-up and build | seconds |",
        "|---|---|",
        f"| cold start, server (process start to first answer) | {results['cold_start_server_s']} |",
        f"| cold start, CLI `rag ask` | {results['cold_start_cli_s']} |",
        f"| index build from scratch (incl. ONNX export) | {b['from_scratch_s']} |",
        f"| `rag build` with nothing changed | {b['nothing_changed_s']} |",
        f"| server peak RSS | {results['server_peak_rss_mb']} MB |",
    ]
    return "\n".join(lines)


def save(results: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return path
