"""Fit the answer sentence's scoring and the no-answer model on the gold dev split and the tuning sets (never test).

Run: .venv/bin/python eval/tune_answer.py   (prints the settings; copy them to config.py by hand)

1. Sentence scoring (passages read, keyword weight, number/date bonus, second-sentence margin): a grid search for
   the share of answerable questions whose answer holds an accepted answer, less a small charge per
   two-sentence answer so that a second sentence has to earn its place.
2. No-answer: a logistic regression (classes balanced, each weight held to the sign Evidence gives it)
   over the chosen sentence's Evidence. The threshold is the one that maximises the F1 of "no answer" under leave-one-out
   predictions, with the unanswerable questions weighted back to the dev split's share of them, and
   the leave-one-out figures are printed as the estimate.

Both are fitted on the dev split plus the question sets written for tuning only (TUNING below),
because the dev split alone has 8 unanswerable questions and few in parts:
- eval/calibration.jsonl: 20 unanswerable questions on the report's topics (written by the first author);
- eval/calibration_offtopic.jsonl: 20 questions about anything else (the same author), so that the
  model, fitted mostly on near misses, still rejects the plainly off-topic;
- eval/calibration_nearmiss.jsonl: 40 near-miss unanswerable questions and 20 answerable twins;
- eval/dev_extra.jsonl: 45 answerable questions, 18 of them in parts;
- eval/tuning_sections.jsonl: 361 questions (171 answerable, 190 near-miss unanswerable), written
  section by section by four helpers; of the 480 they wrote, those within 0.8 cosine of a test or
  held-out question, or 0.95 of a dev or tuning question, were dropped.
- eval/tuning_more.jsonl: 469 more (228 answerable, 241 unanswerable), a second round of four helpers
  (2026-12-02), checked against test and held-out questions (0.8) and the sets above (0.92).
The last four were written by helpers who saw the report but no other question set.
eval/heldout_unanswerable.jsonl and eval/fresh_check.jsonl are never read here.

The verifier's feature is each question's score from a verifier that did not see it, from
eval/verifier_oof.json: out-of-fold scores written by eval/train_verifier.py for the questions the
shipped verifier was trained on, and its own scores for those it never saw (tuning_more.jsonl,
written after it was trained; the file was extended with them on 2026-12-02).
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag import answer as answering
from rag.config import PROJECT_ROOT, Settings
from rag.evaluate import GivenAnswer
from rag.gold import TUNING_SETS, load_gold, select_split
from rag.service import QAService

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
VERIFIER_OOF = PROJECT_ROOT / "eval" / "verifier_oof.json"
TUNING = [GOLD.with_name(name) for name in TUNING_SETS]
GRID = {
    "passages": [3, 4, 5],
    "keyword_weight": [0.3, 0.5, 0.7, 1.0],
    "type_bonus": [0.0, 0.05, 0.1, 0.2],
    "second_margin": [0.0, 0.05, 0.1, 0.15],
}
TWO_SENTENCE_COST = 0.1
C = 1.0  # inverse regularisation strength


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oof", type=Path, default=VERIFIER_OOF, help="the verifier's out-of-fold scores (train_verifier.py --oof)")
    args = parser.parse_args()
    service = QAService.open(Settings.from_env(), verifier=False)  # its scores come from --oof
    dev = select_split(load_gold(GOLD), GOLD, "dev")
    questions = dev + [q for path in TUNING for q in load_gold(path)]
    retrieved = [service.retrieve(q.question, 5, service.settings.default_mode) for q in questions]
    params = tune_sentence(service, questions, retrieved)
    x, y = features(service, questions, retrieved, params, args.oof)
    unanswerable_weight = reweight(y, share=sum(not q.answerable for q in dev) / len(dev))
    weights, threshold, loo, p_answer = fit_no_answer(x, y, unanswerable_weight)
    print("sentence scoring:", {k: getattr(params, k) for k in GRID})
    print(f"no-answer model: answer_no_answer_weights={tuple(round(w, 4) for w in weights)} answer_min_confidence={threshold:.3f}")
    print(f"questions: {len(y)} ({int(np.sum(y == 0))} unanswerable)")
    print("leave-one-out on dev + tuning sets: no-answer P {:.3f} R {:.3f}; answerable questions kept {:.3f}".format(*loo))
    fast, fast_threshold, fast_loo, _ = fit_no_answer(x[:, :-1], y, unanswerable_weight, answering.Evidence.signs()[:-1])  # verified is last
    print(f"without the verifier (RAG_ANSWER_VERIFIER=0): answer_no_answer_weights={(*(round(w, 4) for w in fast), 0.0)} "
          f"answer_min_confidence={fast_threshold:.3f}; leave-one-out P {fast_loo[0]:.3f} R {fast_loo[1]:.3f} kept {fast_loo[2]:.3f}")
    print("\n| RAG_ANSWER_MIN_CONFIDENCE | no-answer P | no-answer R | answerable questions answered |\n|---|---|---|---|")
    for t in sorted({0.1, 0.2, 0.3, round(threshold, 2), 0.5, 0.7}):
        p, r, kept, _ = no_answer_stats(p_answer, y, t, unanswerable_weight)
        print(f"| {t} | {p:.2f} | {r:.2f} | {kept:.2f} |")


def reweight(answerable: np.ndarray, share: float) -> float:
    """The weight on each unanswerable question that makes them `share` of the (weighted) whole."""
    n_unanswerable, n_answerable = np.sum(answerable == 0), np.sum(answerable == 1)
    return float(share * n_answerable / ((1 - share) * n_unanswerable))


def tune_sentence(service, questions, retrieved) -> answering.AnswerParams:
    always = replace(service.answer_params, min_confidence=0.0)
    best = None
    for n, kw, tb in itertools.product(GRID["passages"], GRID["keyword_weight"], GRID["type_bonus"]):
        base = replace(always, passages=n, keyword_weight=kw, type_bonus=tb)
        ranked = [service.candidates(q.question, h, s, base) for q, (h, s, _) in zip(questions, retrieved)]
        for margin in GRID["second_margin"]:
            params = replace(base, second_margin=margin)
            hit = two = n = 0
            for q, rk, (hits, scores, parts) in zip(questions, ranked, retrieved):
                if not q.answerable:
                    continue
                choice = service.choose_answer(q.question, scores.terms, hits, rk, params, parts)
                n += 1
                hit += given(service, choice).holds(q)
                two += len(choice.excerpts[0].sentences) > 1
            objective = hit / n - TWO_SENTENCE_COST * two / n
            if best is None or objective > best[0] + 1e-9:
                best = (objective, params, hit / n, two / n)
    print(f"sentence scoring on dev + tuning sets: answer hit {best[2]:.3f}, two-sentence answers {best[3]:.3f}")
    return best[1]


def given(service, choice) -> GivenAnswer:
    cited = " ".join(service.source_names(e.hit.chunk.doc, n) for e in choice.excerpts for s in e.sentences for n in s.footnotes)
    return GivenAnswer(" ".join(s.clean for s in choice.sentences), cited)


def features(service, questions, retrieved, params, oof_path: Path = VERIFIER_OOF):
    oof = json.loads(oof_path.read_text(encoding="utf-8"))
    if missing := [q.question for q in questions if q.question not in oof]:
        raise SystemExit(f"{len(missing)} questions have no out-of-fold verifier score (e.g. {missing[0]!r}): run eval/train_verifier.py")
    rows = []
    for q, (hits, scores, _) in zip(questions, retrieved):
        rk = service.candidates(q.question, hits, scores, params)
        e = service.evidence(q.question, scores.terms, hits, rk, params)
        rows.append(replace(e, verified=oof[q.question]).vector())
    return np.array(rows), np.array([q.answerable for q in questions], dtype=int)


def fit_no_answer(x: np.ndarray, y: np.ndarray, unanswerable_weight: float, signs: tuple[int, ...] = answering.Evidence.signs()):
    loo = np.array([predict(fit_signed_logistic(np.delete(x, i, 0), np.delete(y, i), signs), x[i : i + 1])[0] for i in range(len(y))])
    candidates = ((t, no_answer_stats(loo, y, t, unanswerable_weight)) for t in np.arange(0.05, 0.96, 0.01))
    threshold, stats = max(candidates, key=lambda ts: (ts[1][3], -abs(ts[0] - 0.5)))
    return tuple(map(float, fit_signed_logistic(x, y, signs))), float(threshold), stats[:3], loo


def fit_signed_logistic(x: np.ndarray, y: np.ndarray, signs: tuple[int, ...]) -> np.ndarray:
    """Logistic regression (L2, classes balanced) with each weight held to its feature's sign: bias first, then weights.

    scikit-learn's LogisticRegression has no bounds on its weights; L-BFGS-B over the same loss does."""
    from scipy.optimize import minimize

    sample_weight = np.where(y == 1, len(y) / (2 * np.sum(y == 1)), len(y) / (2 * np.sum(y == 0)))
    target = 2 * y - 1

    def loss(theta: np.ndarray):
        margin = target * (theta[0] + x @ theta[1:])
        slope = -sample_weight * target / (1 + np.exp(margin))
        value = np.sum(sample_weight * np.logaddexp(0, -margin)) + 0.5 / C * theta[1:] @ theta[1:]
        return value, np.r_[slope.sum(), x.T @ slope + theta[1:] / C]

    bounds = [(None, None)] + [(0, None) if sign > 0 else (None, 0) for sign in signs]
    return minimize(loss, np.zeros(1 + x.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds).x


def predict(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(theta[0] + x @ theta[1:])))


def no_answer_stats(p_answer: np.ndarray, answerable: np.ndarray, threshold: float, unanswerable_weight: float = 1.0):
    """Precision, recall, share of answerable questions still answered, F1; unanswerable ones weighted."""
    said_none = p_answer < threshold
    tp = unanswerable_weight * np.sum(said_none & (answerable == 0))
    fp = np.sum(said_none & (answerable == 1))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (unanswerable_weight * np.sum(answerable == 0))
    kept = float(np.mean(~said_none[answerable == 1]))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, kept, f1


if __name__ == "__main__":
    main()
