"""One evaluation run over the loaded service: every setting, same questions, same index."""

from __future__ import annotations

import time
from dataclasses import dataclass
from collections.abc import Sequence
from pathlib import Path

from rag.evaluate import GivenAnswer, Setting, SettingReport, evaluate_setting, write_report
from rag.gold import GoldQuestion, load_gold, select_split
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
    bar = _bar(len(questions) * len(settings), progress)
    for q in questions[:3]:  # warm the model and caches so latency is per query, not first-call
        service.retriever.search(q.question, 10, "hybrid")
    reports = [evaluate_with_service(service, s, questions, k, bar.update if bar else None) for s in settings]
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


def evaluate_with_service(service: QAService, setting: Setting, questions: Sequence[GoldQuestion], k: int, progress=None) -> SettingReport:
    """One setting judged on what the service returns: its ranking, its answer, its packed context."""

    def search(question: str, n: int, mode: str):
        return [h.chunk for h in service.search(question, n, mode)]

    def answer(question: str, mode: str) -> GivenAnswer | None:
        given = service.ask(question, k, mode).answer
        if given is None:
            return None
        return GivenAnswer(given.text, " ".join(service.source_names(given.doc, c.number) for c in given.citations))

    return evaluate_setting(setting, questions, search, service.retriever.chunks, k, service.source_names, progress, answer, service.context_of)


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="eval", unit="q")
