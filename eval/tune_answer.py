"""Fit the answer sentence's scoring and the no-answer model on the tuning sets the retrieval encoder never saw (never test).

Run: .venv/bin/python eval/tune_answer.py   (prints the settings; copy them to config.py by hand)

Both read the retrieval encoder's similarities, and the shipped encoder (eval/train_encoder.py) was
trained on the answerable questions of every set here but tuning_more.jsonl and tuning_short.jsonl: on those its
passages and sentences look surer than they would on a new question, and so do those of the
near-miss unanswerable questions written beside them. So both are fitted only on the sets the encoder
was trained on no question of (encoder_unseen): tuning_more.jsonl, tuning_short.jsonl, calibration.jsonl
and calibration_offtopic.jsonl.

1. Sentence scoring (passages read, keyword weight, number/date bonus, second-sentence margin): a grid search for
   the share of those answerable questions whose answer holds an accepted answer, less a small charge per
   two-sentence answer so that a second sentence has to earn its place.
2. No-answer: a logistic regression (classes balanced, each weight held to the sign Evidence gives it)
   over the best sentence's Evidence. The service judges the best sentence and the runner-up and takes
   the likelier (answer.CONTENDERS), so the threshold is chosen on that probability, where the verifier's
   word on any sentence is out of sample: on the questions written after it was trained (VERIFIER_UNSEEN),
   each with the weights fitted without it. It is the lowest threshold whose F1 of "no answer" there is
   within F1_TOLERANCE of the best, with the unanswerable questions weighted back to the dev split's
   share of them; the table printed around it is the estimate.

The question sets written for tuning only (TUNING below; the dev split alone has 8 unanswerable
questions and few in parts, and now gives only its share of unanswerable questions, to which
precision is weighted):
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
- eval/tuning_short.jsonl: 238 short questions (140 answerable, 98 not), as users type them, written
  2026-12-07 by four helpers. The shipped no-answer model is fitted with it (--keep-sentence-scoring);
  the sentence scoring refitted with it answered more off-topic questions (README, "Short questions").
The last five were written by helpers who saw the report but no other question set.
eval/heldout_unanswerable.jsonl, eval/fresh_check.jsonl and eval/fresh_check_2.jsonl are never read here.

The verifier's feature is each question's score from a verifier that did not see it: for the questions
the shipped verifier was trained on, the out-of-fold scores eval/train_verifier.py wrote to
eval/verifier_oof.json; for those it never saw (VERIFIER_UNSEEN), its own score on the best sentence.
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
from rag.verify import load_verifier
from train_encoder import training_questions  # eval/, beside this script

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
VERIFIER_OOF = PROJECT_ROOT / "eval" / "verifier_oof.json"
TUNING = [GOLD.with_name(name) for name in TUNING_SETS]
# Written after the shipped verifier was trained, so its scores on them, on any sentence, are out of sample:
# the threshold is chosen there, on the probability the service gives (best sentence or runner-up).
VERIFIER_UNSEEN = ("tuning_more.jsonl", "tuning_short.jsonl")
GRID = {
    "passages": [3, 4, 5],
    "keyword_weight": [0.3, 0.5, 0.7, 1.0],
    "type_bonus": [0.0, 0.05, 0.1, 0.2],
    "second_margin": [0.0, 0.05, 0.1, 0.15],
}
TWO_SENTENCE_COST = 0.1
C = 1.0  # inverse regularisation strength
F1_TOLERANCE = 0.005  # "no answer" F1 within this of the best counts as flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oof", type=Path, default=VERIFIER_OOF, help="the verifier's out-of-fold scores (train_verifier.py --oof)")
    parser.add_argument("--keep-sentence-scoring", action="store_true", help="refit only the no-answer model, on config.py's sentence scoring")
    args = parser.parse_args()
    service = QAService.open(Settings.from_env(), verifier=False)  # its scores come from --oof
    dev = select_split(load_gold(GOLD), GOLD, "dev")  # only for its share of unanswerable questions: the encoder learnt it
    trained = {q.question for q in training_questions()}  # the retrieval encoder's (eval/train_encoder.py)
    sets = [(path.name, qs) for path in TUNING for qs in [load_gold(path)] if encoder_unseen(qs, trained)]
    questions = [q for _, qs in sets for q in qs]
    unseen = np.array([name in VERIFIER_UNSEEN for name, qs in sets for _ in qs])
    retrieved = [service.retrieve(q.question, 5, service.settings.default_mode) for q in questions]
    params = service.answer_params if args.keep_sentence_scoring else tune_sentence(service, questions, retrieved)
    verifier = load_verifier(service.settings)
    x, y = features(service, questions, retrieved, params, verifier, unseen, args.oof)
    share = sum(not q.answerable for q in dev) / len(dev)
    print("sentence scoring:", {k: getattr(params, k) for k in GRID})
    print(f"questions: {len(y)} ({int(np.sum(y == 0))} unanswerable) in {', '.join(name for name, _ in sets)}, "
          f"the sets the encoder never saw; threshold chosen on the {int(unseen.sum())} the verifier never saw either")
    for name, columns, signs, judge in [
        ("with the verifier (default)", slice(None), answering.Evidence.signs(), verifier),
        ("without the verifier (RAG_ANSWER_VERIFIER=0)", slice(0, -1), answering.Evidence.signs()[:-1], None),  # verified is last
    ]:
        weights, thetas, loo = fit_no_answer(x[:, columns], y, signs)
        contenders = np.array([contender_probability(service, judge, questions[i], retrieved[i], params, thetas[i], columns)
                               for i in np.flatnonzero(unseen)])
        threshold, table = choose_threshold(contenders, y[unseen], reweight(y[unseen], share))
        full = (*(round(w, 4) for w in weights), *((0.0,) if judge is None else ()))
        print(f"\n{name}: answer_no_answer_weights={full} answer_min_confidence={threshold:.2f}")
        print("  leave-one-out on all {} (best sentence alone): no-answer P {:.3f} R {:.3f}; answerable questions kept {:.3f}".format(
            len(y), *no_answer_stats(loo, y, threshold, reweight(y, share))[:3]))
        print(table)


def encoder_unseen(questions, trained: set[str]) -> bool:
    """A set none of whose questions the encoder was trained on. Not merely the question itself: a
    near-miss unanswerable question was written beside an answerable twin, and once the encoder has
    learnt the twin, the near miss finds its sentence as surely as the twin does."""
    return not any(q.question in trained for q in questions)


def choose_threshold(p_answer: np.ndarray, answerable: np.ndarray, unanswerable_weight: float) -> tuple[float, str]:
    """The lowest threshold whose "no answer" F1 is within F1_TOLERANCE of the best, and a markdown table of the trade-off.

    The lowest, because a refusal hides an answer the report has, while a doubtful answer still shows its
    confidence beside the passages; and where F1 is flat the data cannot tell the thresholds apart."""
    f1 = {round(t, 2): no_answer_stats(p_answer, answerable, t, unanswerable_weight)[3] for t in np.arange(0.05, 0.96, 0.01)}
    threshold = min(t for t, f in f1.items() if f >= max(f1.values()) - F1_TOLERANCE)
    rows = ["| RAG_ANSWER_MIN_CONFIDENCE | no-answer P | no-answer R | answerable questions answered |", "|---|---|---|---|"]
    for t in sorted({0.1, 0.15, 0.2, threshold, 0.3, 0.5}):
        p, r, kept, _ = no_answer_stats(p_answer, answerable, t, unanswerable_weight)
        rows.append(f"| {t}{' (default)' if t == threshold else ''} | {p:.2f} | {r:.2f} | {kept:.2f} |")
    return threshold, "\n".join(rows)


def contender_probability(service, verifier, q, retrieved, params, theta: np.ndarray, columns) -> float:
    """The probability the service gives: the likelier of the best sentence and the runner-up
    (answer.CONTENDERS), each read by the verifier, which never saw the question; 0 for one about
    another state than the question asks about, as answer.likelihood has it."""
    hits, scores, _ = retrieved
    ranked = service.candidates(q.question, hits, scores, params)
    out = []
    contenders = answering.contenders(ranked)
    for c, e in zip(contenders, service.evidence(q.question, scores.terms, hits, contenders, params)):
        if verifier is not None:
            e = replace(e, verified=verifier.logit(q.question, c.sentence.clean))
        out.append(0.0 if c.elsewhere else float(predict(theta, np.array([e.vector()])[:, columns])[0]))
    return max(out)


def reweight(answerable: np.ndarray, share: float) -> float:
    """The weight on each unanswerable question that makes them `share` of the (weighted) whole."""
    n_unanswerable, n_answerable = np.sum(answerable == 0), np.sum(answerable == 1)
    return float(share * n_answerable / ((1 - share) * n_unanswerable))


def tune_sentence(service, questions, retrieved) -> answering.AnswerParams:
    # always answer, with the best sentence: all-zero weights judge every contender alike, so no runner-up joins
    always = replace(service.answer_params, min_confidence=0.0, no_answer_weights=(0.0,) * len(service.answer_params.no_answer_weights))
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
    print(f"sentence scoring on the answerable questions the encoder never saw: answer hit {best[2]:.3f}, two-sentence answers {best[3]:.3f}")
    return best[1]


def given(service, choice) -> GivenAnswer:
    cited = " ".join(service.source_names(e.hit.chunk.doc, n) for e in choice.excerpts for s in e.sentences for n in s.footnotes)
    return GivenAnswer(" ".join(s.clean for s in choice.sentences), cited)


def features(service, questions, retrieved, params, verifier, unseen: np.ndarray, oof_path: Path = VERIFIER_OOF):
    """Each question's Evidence on its best sentence. The verifier's word: the shipped verifier's, on
    that sentence, for the questions it never saw; else the out-of-fold score (on the best sentence of
    the retrieval it was trained with, which may since have changed)."""
    oof = json.loads(oof_path.read_text(encoding="utf-8"))
    if missing := [q.question for q, new in zip(questions, unseen) if not new and q.question not in oof]:
        raise SystemExit(f"{len(missing)} questions have no out-of-fold verifier score (e.g. {missing[0]!r}): run eval/train_verifier.py")
    rows = []
    for q, (hits, scores, _), new in zip(questions, retrieved, unseen):
        rk = service.candidates(q.question, hits, scores, params)
        (e,) = service.evidence(q.question, scores.terms, hits, rk[:1], params)
        verified = verifier.logit(q.question, rk[0].sentence.clean) if new else oof[q.question]
        rows.append(replace(e, verified=verified).vector())
    return np.array(rows), np.array([q.answerable for q in questions], dtype=int)


def fit_no_answer(x: np.ndarray, y: np.ndarray, signs: tuple[int, ...] = answering.Evidence.signs()):
    """The weights fitted on every question; each question's weights fitted without it; its leave-one-out probability."""
    thetas = np.array([fit_signed_logistic(np.delete(x, i, 0), np.delete(y, i), signs) for i in range(len(y))])
    loo = np.array([predict(theta, x[i : i + 1])[0] for i, theta in enumerate(thetas)])
    return tuple(map(float, fit_signed_logistic(x, y, signs))), thetas, loo


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
