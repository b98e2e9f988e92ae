"""The answer sentence and no-answer, and context packing."""

from __future__ import annotations

from rag.answer import expected_type, matches_type
from rag.chunk import tiktoken_counter
from rag.context import pack, passage_block


def test_expected_answer_types():
    assert expected_type("How many children did Tajikistan repatriate?") == "number"
    assert expected_type("What percentage of GDP came from remittances?") == "number"
    assert expected_type("When did Operation Meerim take place?") == "date"
    assert expected_type("Who directs Barqaror Hayot?") is None
    assert matches_type("On April 30th, 2019, 84 children were repatriated", "number")
    assert matches_type("in March 2021", "date") and not matches_type("in the spring", "date")


def test_answer_sentence_holds_the_number(service):
    result = service.ask("How many children did Tajikistan bring back from Iraq?")
    assert result.answer is not None and "84 children" in result.answer.text
    assert [c.number for c in result.answer.citations] == [70]
    assert result.passages[result.answer.rank - 1].chunk_id == result.answer.chunk_id


def test_off_topic_question_gets_no_answer(service):
    result = service.ask("Who won the football world cup in 1998?")
    assert result.answer is None and result.no_answer_reason


def test_max_tokens_returns_the_passages_that_fit(service):
    count = tiktoken_counter()
    full = service.ask("What was Operation Meerim?", k=10)
    packed = service.ask("What was Operation Meerim?", k=10, max_tokens=300)
    assert 1 <= len(packed.passages) < 10
    assert [p.chunk_id for p in packed.passages] == [p.chunk_id for p in full.passages[: len(packed.passages)]]
    assert count(packed.context) <= 300
    assert all(passage_block(p) in packed.context for p in packed.passages)
    assert "[82]" in packed.context  # citation markers survive packing
    assert full.context is None


def test_pack_stops_before_the_budget_and_never_cuts_a_passage():
    class P:
        def __init__(self, text):
            self.heading_path, self.text = ["Section"], text

    words = lambda n: " ".join(["word"] * n)  # noqa: E731
    count = tiktoken_counter()
    n, context = pack([P(words(50)), P(words(50)), P(words(50))], 120, count)
    assert n == 2 and count(context) <= 120
    assert pack([P(words(500))], 100, count) == (0, "")
