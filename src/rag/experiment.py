"""One evaluation run over the loaded service: every setting, same questions, same index."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rag.evaluate import GivenAnswer, Setting, SettingReport, evaluate_setting, write_report
from rag.gold import load_gold, select_split
from rag.retrieve import MODES
from rag.service import QAService


@dataclass(frozen=True)
class EvalRun:
    reports: list[SettingReport]
    n_questions: int
    n_answerable: int
    json_path: Path
    png_path: Path


def settings_to_compare(service: QAService) -> list[Setting]:
    """Keyword only, dense only, and every mode the service offers; the default marked."""
    default = service.settings.default_mode
    order = ["keyword", "dense"] + [m for m in MODES if m not in ("keyword", "dense")]
    return [Setting(name=m, mode=m, default=(m == default)) for m in order]


def run_eval(service: QAService, gold: Path, split: str, k: int, out: Path, progress: bool = False) -> EvalRun:
    questions = select_split(load_gold(gold), gold, split)
    settings = settings_to_compare(service)
    chunks = service.retriever.chunks

    def search(question: str, n: int, mode: str):
        return [h.chunk for h in service.retriever.search(question, n, mode)]

    bar = _bar(len(questions) * len(settings), progress)
    for q in questions[:3]:  # warm the model and caches so latency is per query, not first-call
        search(q.question, 10, "hybrid")
    def answer(question: str, mode: str) -> GivenAnswer | None:
        given = service.ask(question, k, mode).answer
        if given is None:
            return None
        return GivenAnswer(given.text, " ".join(service.source_names(given.doc, c.number) for c in given.citations))

    reports = [
        evaluate_setting(s, questions, search, chunks, k, service.source_names, bar.update if bar else None, answer, service.context_of)
        for s in settings
    ]
    if bar:
        bar.close()
    meta = {
        "gold": str(gold),
        "split": split,
        "k": k,
        "n_questions": len(questions),
        "index_built_at": service.stored.manifest["built_at"],
        "chunking": service.stored.manifest["chunking"],
        "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    json_path, png_path = write_report(reports, meta, out)
    return EvalRun(reports, len(questions), sum(q.answerable for q in questions), json_path, png_path)


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="eval", unit="q")
