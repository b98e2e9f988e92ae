"""Chunk size against retrieval and answer quality, on the gold DEV split (each size its own index).

Run: .venv/bin/python eval/sweep_chunks.py [sizes...]   e.g. 96 128 192 256 (default)
Indexes go under a temporary directory; the embedding cache is shared with the project's index.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rag.config import PROJECT_ROOT, Settings
from rag.experiment import run_eval
from rag.index import build_index
from rag.service import QAService

COLUMNS = ["evidence_hit@1", "evidence_hit@5", "mrr@10", "answer@512tok", "citation_recall@5", "answer_sentence_hit", "no_answer_precision", "no_answer_recall"]


def main(sizes: list[int]) -> None:
    print("| target tokens | chunks | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            settings = Settings.from_env(index_dir=Path(tmp) / f"index-{size}", chunk_target_tokens=size, chunk_min_tokens=min(48, size // 2))
            build_index(settings)
            service = QAService.open(settings)
            run = run_eval(service, PROJECT_ROOT / "eval" / "gold.jsonl", "dev", 5, Path(tmp) / "reports")
            m = next(r for r in run.reports if r.setting.default).metrics
            print(f"| {size} | {len(service.retriever.chunks)} | " + " | ".join(f"{m.get(c, 0):.3f}" for c in COLUMNS) + " |", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [96, 128, 192, 256])
