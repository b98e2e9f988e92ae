"""The gold question set agrees with the report, and the validator catches a line that does not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.citations import resolve_citations
from rag.config import PROJECT_ROOT
from rag.gold import TUNING_SETS, GoldError, GoldQuestion, load_gold, select_split, split_file, validate_gold

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"


@pytest.fixture(scope="module")
def source_names(report):
    cits = resolve_citations({n: f.text for n, f in report.footnotes.items()}, [b.text for b in report.bibliography])

    def names(n: int) -> str:
        return " ".join(" ".join([*s.authors, s.title or "", s.outlet or "", s.bibliography_text or ""]) for s in cits.sources_of(n))

    return {n: names(n) for n in report.footnotes}


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


def test_gold_set_size_and_mix(gold):
    types = [q.type for q in gold]
    assert len(gold) >= 120
    assert types.count("paraphrase") >= 15 and types.count("multi_part") >= 15 and types.count("unanswerable") >= 12
    assert {"factoid", "numeric", "table", "citation"} <= set(types)


def test_gold_set_agrees_with_the_report(gold, report, source_names):
    problems = validate_gold(gold, {report.doc_id: report}, source_names)
    assert problems == []


@pytest.mark.parametrize("name", [*TUNING_SETS, "heldout_unanswerable.jsonl", "fresh_check.jsonl", "fresh_check_2.jsonl", "table_check.jsonl", "table_probe.jsonl", "name_probe.jsonl", "name_check.jsonl", "short_check.jsonl"])
def test_tuning_and_heldout_sets_agree_with_the_report(name, gold, report, source_names):
    questions = load_gold(GOLD.with_name(name))
    assert validate_gold(questions, {report.doc_id: report}, source_names) == []
    assert not {q.question for q in questions} & {q.question for q in gold}  # none repeats a gold question


def test_no_question_repeats_across_tuning_sets():
    """The verifier's out-of-fold scores are keyed by question text: a repeat would be scored by a model that saw it."""
    questions = [q.question for name in TUNING_SETS for q in load_gold(GOLD.with_name(name))]
    assert len(questions) == len(set(questions))


def test_no_tuning_question_is_a_near_copy_of_a_test_or_held_out_one(gold, embedder):
    """Helpers writing about the same report converge on the same questions (one wrote a held-out
    question almost word for word); a tuning set holding such a copy would flatter test and held-out figures."""
    protected = [q.question for q in select_split(gold, GOLD, "test") + load_gold(GOLD.with_name("heldout_unanswerable.jsonl")) + load_gold(GOLD.with_name("short_check.jsonl"))]
    tuning = [q.question for name in (*TUNING_SETS, "table_probe.jsonl", "name_probe.jsonl") for q in load_gold(GOLD.with_name(name))]
    similarity = embedder.encode(tuning) @ embedder.encode(protected).T
    worst = [(tuning[i], protected[similarity[i].argmax()]) for i in np.flatnonzero(similarity.max(axis=1) >= 0.9)]
    assert worst == []


@pytest.mark.parametrize("name", ["fresh_check_2.jsonl", "short_check.jsonl"])
def test_a_fresh_check_holds_no_near_copy_of_a_question_fitted_on(name, gold, embedder):
    """Its figures stand for questions the models never saw: a near copy of a dev or tuning question would flatter them."""
    fitted = [q.question for q in select_split(gold, GOLD, "dev")] + [q.question for t in TUNING_SETS for q in load_gold(GOLD.with_name(t))]
    fresh = [q.question for q in load_gold(GOLD.with_name(name))]
    similarity = embedder.encode(fresh) @ embedder.encode(fitted).T
    assert [(fresh[i], fitted[similarity[i].argmax()]) for i in np.flatnonzero(similarity.max(axis=1) >= 0.9)] == []


def test_split_is_recorded_and_disjoint(gold):
    split = json.loads(split_file(GOLD).read_text())
    dev, test = set(split["dev"]), set(split["test"])
    assert dev and test and not dev & test and dev | test == {q.id for q in gold}
    assert len(select_split(gold, GOLD, "test")) == len(test)


def _q(**kw) -> GoldQuestion:
    base = dict(id="x1", question="How many children did Tajikistan repatriate?", answers=("84",),
                evidence=("On April 30th, 2019, 84 children were repatriated to Tajikistan from the conflict zone.",),
                footnotes=(70,), type="numeric")
    return GoldQuestion(**{**base, **kw})


def test_validator_accepts_a_correct_line(report, source_names):
    assert validate_gold([_q()], {report.doc_id: report}, source_names) == []


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(evidence=("On April 30th, 2019, 85 children were repatriated to Tajikistan from the conflict zone.",)), "not found verbatim"),
        (dict(answers=("eighty-five",)), "no answer"),
        (dict(footnotes=(71,)), "not attached"),
        (dict(type="unanswerable"), "unanswerable question with answers"),
        (dict(type="citation", answers=("Reuters",)), "or the cited footnotes"),
    ],
)
def test_validator_rejects_a_wrong_line(report, source_names, change, message):
    problems = validate_gold([_q(**change)], {report.doc_id: report}, source_names)
    assert len(problems) >= 1 and any(message in p for p in problems)


def test_citation_question_may_be_answered_through_an_ibid(report, source_names):
    q = _q(type="citation", answers=("Raychev",), footnotes=(70,))
    assert validate_gold([q], {report.doc_id: report}, source_names) == []


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not a gold line"),
        ('{"id": "a", "question": "q", "answers": [], "evidence": [], "footnotes": [], "type": "riddle"}', "type 'riddle'"),
        ('{"id": "a", "question": "q", "answers": []}', "not a gold line"),
    ],
)
def test_malformed_gold_files_name_the_line(tmp_path, line, message):
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "ok", "question": "q", "answers": [], "evidence": [], "footnotes": [], "type": "unanswerable"}\n' + line + "\n")
    with pytest.raises(GoldError, match=f"g.jsonl:2: .*{message}"):
        load_gold(path)
