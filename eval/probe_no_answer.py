"""Probe features for "no answer" beside the shipped ones, on questions the verifier never saw (never test).

Run: .venv/bin/python eval/probe_no_answer.py   (about 1.5 minutes on 2 cores; prints a markdown table)

Why: most answerable questions refused on the tuning and fresh sets have the answering sentence as
best or runner-up, so what falls short is the reading of question and sentence, not retrieval.
Each probe adds one feature to the no-answer model's Evidence and is scored as eval/tune_answer.py
scores the shipped model: fitted on eval/tuning_more.jsonl, leave-one-out, the likelier of the two
contenders, the threshold by the same rule, unanswerable questions weighted to dev's share; then the
fit on all of tuning_more is applied to the two fresh checks, never tuned on. The first row refits the
shipped features the same way (on tuning_more alone), as the baseline the others are read against.

The probes:
- question prior: the verifier's logit for the question with an empty sentence. How much of its word
  comes from the question alone (printed as an AUC of its own) says whether it reads the sentence;
- occlusion: the largest rise in the verifier's logit when one content word is taken out of the
  question ("How many of the 79 children were girls?" without "girls" is answered by "79 children
  were repatriated"): a near miss is its answerable twin plus one thing the sentence lacks;
- neighbours: the share of answerable questions among the 20 nearest questions the verifier was
  trained on (retrieval encoder, softmax-weighted): what was asked of this report before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

import tune_answer as tune  # eval/, beside this script
from train_verifier import NOT_TRAINED_ON
from rag import answer as answering
from rag.config import Settings
from rag.gold import load_gold, select_split
from rag.service import QAService

FIT_ON = "tuning_more.jsonl"
CHECKS = ("fresh_check.jsonl", "fresh_check_2.jsonl")
NEIGHBOURS, TEMPERATURE = 20, 10.0


@dataclass
class Probed:
    answerable: bool
    contenders: list[tuple[float, ...]]  # each contender's Evidence vector
    prior: float
    occlusion: list[float]  # per contender
    neighbours: float


def main() -> None:
    service = QAService.open(Settings.from_env())
    gold = select_split(load_gold(tune.GOLD), tune.GOLD, "dev")
    share = sum(not q.answerable for q in gold) / len(gold)
    reference = gold + [q for path in tune.TUNING if path.name not in NOT_TRAINED_ON for q in load_gold(path)]
    embed = service.retriever.embedder.encode
    ref_vectors, ref_labels = embed([q.question for q in reference]), np.array([q.answerable for q in reference], float)
    sets = {name: [probe(service, q, embed, ref_vectors, ref_labels) for q in load_gold(tune.GOLD.with_name(name))] for name in (FIT_ON, *CHECKS)}

    y = labels(sets[FIT_ON])
    print(f"AUC on {FIT_ON}, best sentence: verifier {roc_auc_score(y, [p.contenders[0][-1] for p in sets[FIT_ON]]):.3f}, "
          f"its question prior alone {roc_auc_score(y, [p.prior for p in sets[FIT_ON]]):.3f}, "
          f"neighbours alone {roc_auc_score(y, [p.neighbours for p in sets[FIT_ON]]):.3f}\n")
    print(f"| features | {FIT_ON} LOO AUC | threshold | P at R 0.6 | " + " | ".join(f"{c} AUC | caught | false alarms" for c in CHECKS) + " |")
    print("|---|---|---|---|" + "---|---|---|" * len(CHECKS))
    for name, extra, sign in [("shipped features", None, ()), ("+ question prior", "prior", (1,)), ("+ occlusion", "occlusion", (-1,)), ("+ neighbours", "neighbours", (1,))]:
        print(row(name, sets, lambda p, i: p.contenders[i] + extra_of(p, i, extra), answering.Evidence.signs() + sign, share))


def probe(service: QAService, q, embed, ref_vectors: np.ndarray, ref_labels: np.ndarray) -> Probed:
    hits, scores, _ = service.retrieve(q.question, 5, service.settings.default_mode)
    contenders = answering.contenders(service.candidates(q.question, hits, scores))
    evidence = service.evidence(q.question, scores.terms, hits, contenders, service.answer_params)
    verifier, variants = service.verifier, without_each_word(q.question, service.retriever.keyword_index.content_terms)
    occlusion = [max([verifier.logit(v, c.sentence.clean) - e.verified for v in variants], default=0.0)
                 for c, e in zip(contenders, evidence)]
    sims = ref_vectors @ embed([q.question])[0]
    near = np.argsort(-sims)[:NEIGHBOURS]
    weights = np.exp(TEMPERATURE * sims[near])
    return Probed(q.answerable, [e.vector() for e in evidence], verifier.logit(q.question, ""), occlusion,
                  float(weights @ ref_labels[near] / weights.sum()))


def without_each_word(question: str, content_terms) -> list[str]:
    """The question once without each of its content words (those `content_terms` keeps any term of)."""
    content = [m for m in re.finditer(r"\w[\w'-]*", question) if content_terms(m.group())]
    return [" ".join((question[: m.start()] + question[m.end() :]).split()) for m in content]


def extra_of(p: Probed, i: int, extra: str | None) -> tuple[float, ...]:
    return () if extra is None else (p.occlusion[i],) if extra == "occlusion" else (getattr(p, extra),)


def row(name: str, sets: dict[str, list[Probed]], vector, signs: tuple[int, ...], share: float) -> str:
    fit = sets[FIT_ON]
    y = labels(fit)
    x = np.array([vector(p, 0) for p in fit])
    weights, thetas, _ = tune.fit_no_answer(x, y, signs)
    loo = np.array([likeliest(p, vector, theta) for p, theta in zip(fit, thetas)])
    threshold, _ = tune.choose_threshold(loo, y, tune.reweight(y, share))
    cells = [name, f"{roc_auc_score(y, loo):.3f}", f"{threshold:.2f}", f"{precision_at_recall(loo, y, tune.reweight(y, share), 0.6):.2f}"]
    theta = np.array(weights)
    for check in CHECKS:
        yc = labels(sets[check])
        pc = np.array([likeliest(p, vector, theta) for p in sets[check]])
        said_none = pc < threshold
        cells += [f"{roc_auc_score(yc, pc):.3f}", f"{np.sum(said_none & (yc == 0))} of {np.sum(yc == 0)}", f"{np.sum(said_none & (yc == 1))} of {np.sum(yc == 1)}"]
    return "| " + " | ".join(cells) + " |"


def likeliest(p: Probed, vector, theta: np.ndarray) -> float:
    return max(float(tune.predict(theta, np.array([vector(p, i)]))[0]) for i in range(len(p.contenders)))


def precision_at_recall(p_answer: np.ndarray, y: np.ndarray, weight: float, recall: float) -> float:
    """Precision (unanswerable questions weighted) at the lowest threshold that reaches `recall`."""
    for t in np.arange(0.01, 1.0, 0.005):
        precision, r, _, _ = tune.no_answer_stats(p_answer, y, t, weight)
        if r >= recall:
            return precision
    return 0.0


def labels(probed: list[Probed]) -> np.ndarray:
    return np.array([p.answerable for p in probed], dtype=int)


if __name__ == "__main__":
    main()
