"""Questions that name a footnote: which numbers a question names, and the sentences that carry them."""

from __future__ import annotations

import pytest

from rag.lookup import footnote_answer, footnote_mentions, source_mention
from rag.models import Hit


@pytest.mark.parametrize(
    "question, numbers",
    [
        ("What does footnote 47 say?", (47,)),
        ("What do footnotes 12 and 13 cite?", (12, 13)),
        ("Sources of Footnotes 7, 9 & 8", (7, 9, 8)),
        ("endnotes 44-47", (44, 45, 46, 47)),
        ("footnotes 1 to 242", (1, 242)),  # a long range is its two ends, not every note
        ("What does foot note 5 rest on?", (5,)),
        ("fn. 3 and fn 9", (3, 9)),
        ("Footnote no. 9, note #12 and note number 7", (9, 12, 7)),
        ("What is the source of [47]? And of [48], and [47] again?", (47, 48)),
        ("footnote 47 and [12]", (47, 12)),
        ("What does note 12 say?", (12,)),  # "note" after "does" is not the verb
        ("Note 5?", (5,)),
        ("What is in note 3, and in note 4?", (3, 4)),
    ],
)
def test_named_footnotes_are_found_in_order(question, numbers):
    assert footnote_mentions(question) == numbers


@pytest.mark.parametrize(
    "question",
    [
        "How many children did Tajikistan bring back from Iraq in 2019?",
        "The authors note 12 cases of recidivism: where?",  # "note" the verb
        "How many footnotes does the report have?",
        "What did the 2nd note say?",
        "They note 3 phases of the operation: which?",
    ],
)
def test_questions_naming_no_footnote(question):
    assert footnote_mentions(question) == ()


@pytest.mark.parametrize(
    "question, name",
    [
        ("Which passages cite Raychev?", "Raychev"),
        ("What claims rest on Human Rights Watch reports?", "Human Rights Watch reports"),
        ("Where does the report cite UNICEF?", "UNICEF"),
        ("Where is Tucker cited?", "Tucker"),
        ("Which footnotes cite Tanya Mehra?", "Tanya Mehra"),
        ("What does the report cite Reuters for?", "Reuters"),
        ("Which news outlet is cited for the 40,000 foreign fighters?", None),  # asks for a source: a search
        ("Who reported President Tokayev's statement?", None),
        ("What was Operation Mehr?", None),
    ],
)
def test_a_source_asked_about_by_name(question, name):
    assert source_mention(question) == name


def _citing(service, n):
    return [c for c in service.stored.chunks if n in c.footnotes]


def test_answer_is_the_sentences_carrying_the_markers_once_each(service):
    chunks = list(dict.fromkeys(_citing(service, 12) + _citing(service, 13)))
    hits = [Hit(c, 1.0, rank) for rank, c in enumerate(chunks, start=1)]
    choice = footnote_answer((12, 13), hits)
    sentences = choice.sentences
    assert [n for s in sentences for n in s.footnotes] == [12, 13]
    assert len(set(sentences)) == len(sentences) and choice.confidence == 1.0
    assert len(choice.excerpts) == 1  # both sentences are in one passage: one excerpt, in reading order
    assert sentences[0].start < sentences[1].start


def test_no_passage_carrying_the_marker_means_no_answer(service):
    hits = [Hit(c, 1.0, 1) for c in _citing(service, 47)]
    assert footnote_answer((12,), hits) is None
