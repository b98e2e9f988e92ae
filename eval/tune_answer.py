"""Choose the answer-sentence weights and the no-answer threshold on the gold DEV split only.

Run: .venv/bin/python eval/tune_answer.py   (prints the best settings; copy them to config.py by hand)
Objective: answer-sentence hit rate on answerable questions + F1 of "no answer" on unanswerable ones.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from rag import answer as answering
from rag.config import PROJECT_ROOT, Settings
from rag.evaluate import contains_answer
from rag.gold import load_gold, select_split
from rag.service import QAService

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"


def main() -> None:
    service = QAService.open(Settings.from_env())
    r = service.retriever
    questions = select_split(load_gold(GOLD), GOLD, "dev")
    cached = []
    for q in questions:
        scores = r.unit_scores(q.question)
        hits = r.hits(r.rank_scores(scores, 5, service.settings.default_mode))
        cached.append((q, hits, scores, r.keyword_index.unknown_share(q.question)))
    grid = itertools.product([0.0, 0.15, 0.3, 0.5], [0.0, 0.05, 0.1, 0.2], [0.0, 0.05, 0.1], [0.0, 0.5, 1.0],
                             [x / 100 for x in range(40, 96, 2)])
    best = None
    for kw, tb, rw, up, ms in grid:
        params = answering.AnswerParams(3, kw, tb, rw, up, ms)
        hit = tp = fp = fn = n_ans = 0
        for q, hits, scores, unknown in cached:
            ranked = answering.candidates(q.question, hits, r.sentence_rows, r.chunk_position, scores.dense, scores.keyword, params)
            choice = answering.choose(ranked, params, unknown)
            text = " ".join(s.clean for s in choice.sentences) if choice else None
            if q.answerable:
                n_ans += 1
                hit += bool(text and contains_answer(text, q.answers))
                fp += text is None
            else:
                tp += text is None
                fn += text is not None
        p = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * rec / (p + rec) if p + rec else 0.0
        score = hit / n_ans + f1
        if best is None or score > best[0]:
            best = (score, dict(keyword_weight=kw, type_bonus=tb, rank_weight=rw, unknown_penalty=up, min_support=ms),
                    round(hit / n_ans, 3), round(p, 3), round(rec, 3))
    print("best on dev:", best)


if __name__ == "__main__":
    main()
