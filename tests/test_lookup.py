"""Look-ups: which footnotes or source a question names, questions about the report itself, and the sentences that answer them."""

from __future__ import annotations

import pytest

from rag.chunk import ChunkingParams, chunk_document, tiktoken_counter
from rag.lookup import (
    footnote_answer,
    footnote_mentions,
    introduces,
    mentions,
    name_asked,
    names_in,
    report_facet,
    source_mention,
    spells_out,
    spelt_like,
    table_cells_named,
)
from rag.models import Hit
from rag.retrieve import KeywordIndex


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


@pytest.mark.parametrize(
    "question, facet",
    [
        ("Who wrote this report?", "team"),
        ("Who are the authors of the report?", "team"),
        ("Who is on the research team?", "team"),
        ("Who led the research?", "team"),
        ("Who are the report's authors?", "team"),
        ("Who published the report?", "publisher"),
        ("Which organisation published the report?", "publisher"),
        ("When was the report published?", "date"),
        ("What is the title of the report?", "title"),
        ("How should I cite this report?", "reference"),
    ],
)
def test_questions_about_the_report_itself(question, facet):
    assert report_facet(question) == facet


@pytest.mark.parametrize(
    "question",
    [
        "Which author does the report cite for the claim that repression led families to discourage younger members from overt religious practice?",
        "Whose perspectives are missing from the report because the researchers could not reach them?",
        "Which organisations published the analysis on gendered dimensions of return and reintegration cited in Section VI?",
        "Who is the Vice-Chair of Tajikistan's Committee on Women's Affairs quoted in the report?",
        "When was Operation Meerim carried out?",
        "What does the report say about the research team's interviews?",
    ],
)
def test_questions_about_the_report_s_contents_are_searches(question):
    assert report_facet(question) is None


def test_who_made_the_report_is_answered_from_its_credits(service):
    result = service.ask("Who wrote this report?")
    assert result.lookup == "report" and result.passages[0].heading_path == ["About Us"]
    assert result.answer.text.startswith("RESEARCH TEAM — Head: Cholpon Orozobekova; Senior researchers: Cholpon Orozobekova, Sarah Wolfe;")
    assert "© Bulan Institute for Peace Innovations" in result.answer.text  # and the imprint: who published it
    assert all(result.passages[e.rank - 1].chunk_id == e.chunk_id for e in result.answer.excerpts)


@pytest.mark.parametrize(
    "question, answer",
    [
        ("When was the report published?", "Published June 2021"),
        ("What is the title of the report?", "The Repatriation, Rehabilitation and Reintegration of Women and Children from Syria and Iraq The Experiences of"),
    ],
)
def test_date_and_title_come_from_the_front_matter(service, question, answer):
    result = service.ask(question, k=2)
    assert result.lookup == "report" and result.answer.text.startswith(answer) and result.answer.confidence == 1.0
    assert len(result.passages) == 2 and "Cholpon Orozobekova" not in result.answer.text


def test_how_to_cite_the_report_gives_its_title_and_imprint(service):
    text = service.ask("How should I cite this report?").answer.text
    assert text.startswith("The Repatriation, Rehabilitation and Reintegration of Women and Children from Syria and Iraq The Experiences of Kazakhstan")
    assert "Published June 2021" in text and "Bulan Institute for Peace Innovations" in text


@pytest.fixture(scope="module")
def table_cells(report):
    chunks = chunk_document(report, ChunkingParams(), tiktoken_counter(), lambda text: True)
    return [(i, c) for i, c in enumerate(chunks) if c.kind == "table_cell"]


def _named(question, cells):
    rows = table_cells_named(question, cells, KeywordIndex(["a text"]).content_terms)
    by_row = dict(cells)
    return [f"{by_row[i].cell[1].partition(':')[0]} {by_row[i].cell[2]}" for i in rows]


@pytest.mark.parametrize(
    "question, cells",
    [
        ("How many people in total did Kazakhstan repatriate?", ["Kazakhstan Total"]),
        ("How many people did Tajikistan repatriate altogether?", ["Tajikistan Total"]),
        ("According to Table 1, how many men did Kazakhstan repatriate?", ["Kazakhstan Men"]),
        ("How many men were among Kazakhstan's repatriates?", ["Kazakhstan Men"]),
        ("How many Uzbek children were brought back?", ["Uzbekistan Children"]),  # the adjective names the country
        ("In how many phases did Uzbekistan carry out Operation Mehr?", ["Uzbekistan Number of phases"]),
        ("How many women did Operation Mehr bring back?", ["Uzbekistan Women"]),  # a column's only operation names it
        ("How many children did Kazakhstan repatriate in total?", ["Kazakhstan Children"]),  # the row named, not Total
        ("How many men, women and children did Kazakhstan repatriate?", ["Kazakhstan Men", "Kazakhstan Women", "Kazakhstan Children"]),
        ("How many children did Tajikistan and Kyrgyzstan repatriate?", ["Tajikistan Children", "Kyrgyzstan Children"]),
    ],
)
def test_a_question_naming_a_column_and_a_row_looks_up_the_cell(table_cells, question, cells):
    assert _named(question, table_cells) == cells


@pytest.mark.parametrize(
    "question",
    [
        "How many women did Turkmenistan repatriate?",  # no such column
        "How many elderly people did Kazakhstan repatriate?",  # no such row
        "How many children did Kazakhstan repatriate from Iraq?",  # the table does not split by site
        "How many children did Kazakhstan repatriate in Operation Rusafa?",  # one of the column's two operations
        "How many Kazakh children were repatriated in 2019?",
        "How many of the 79 children were girls?",
        "How many children did the four countries repatriate in total?",  # no column named
        "Which country repatriated the most children?",  # asks for a country, not a number
        "Why did Kazakhstan repatriate so many children?",
        "How many children did Kyrgyzstan repatriate and when?",  # also asks for a date
        "How many women did Uzbekistan repatriate, and how were they screened?",
    ],
)
def test_a_question_the_table_does_not_fully_answer_is_not_a_look_up(table_cells, question):
    assert _named(question, table_cells) == []


def test_a_table_look_up_answers_with_the_cell_first(service):
    result = service.ask("How many people in total did Kazakhstan repatriate?")
    assert result.lookup == "table" and result.answer.confidence == 1.0
    assert result.answer.text == "Table 1. Number of repatriates by country. Kazakhstan (Operations Zhusan and Rusafa): total 722."
    assert result.passages[0].chunk_id == result.answer.chunk_id and result.passages[0].score == 1.0


@pytest.mark.parametrize(
    "question, name",
    [
        ("Who is Olga Ryl?", "Olga Ryl"),
        ("what was the Pravo Public Fund", "Pravo Public Fund"),
        ("What is Khatiba Imam al-Bukhari?", "Khatiba Imam al-Bukhari"),
        ("Who is Kasym-Zhomart Tokayev?", "Kasym-Zhomart Tokayev"),
        ("What is the Bulan Institute for Peace Innovations?", "Bulan Institute for Peace Innovations"),
        ("What is UNICEF?", "UNICEF"),
        ("Who is Vladimir I. Voronkov?", "Vladimir I. Voronkov"),
        ("Who is Dr. Albina Aitpagambetova?", "Albina Aitpagambetova"),  # a title is dropped
        ("Who is Ambassador Lapasov", "Lapasov"),
    ],
)
def test_a_question_asking_who_or_what_a_name_is(question, name):
    assert name_asked(question) == name


@pytest.mark.parametrize(
    "question",
    [
        "Who is the commander of Khatiba Imam al-Bukhari?",  # asks for more than the name
        "What is UNICEF's role in the repatriation?",
        "What is the total population of Kazakhstan?",
        "Who are the returnees?",
        "What is Operation Mehr and who carried it out?",
        "What is Table 1?",
        "Who wrote this report?",
    ],
)
def test_a_question_asking_more_of_a_name_is_not_a_name_look_up(question):
    assert name_asked(question) is None


@pytest.mark.parametrize(
    "text, found",
    [
        ("According to Vladimir I. Voronkov, Under-Secretary", True),  # an initial between the words
        ("Vladimir Voronkov said", True),
        ("Vladimir Voronkovs said", False),
        ("Ivladimir Voronkov said", False),
        ("pro-Vladimir Voronkov", False),
        ("Vladimir  Voronkov", True),
    ],
)
def test_a_name_is_found_word_for_word(text, found):
    assert bool(mentions("Vladimir Voronkov").search(text)) is found


@pytest.mark.parametrize(
    "name, text, found",
    [
        ("Operation Zhusan", '"The humanitarian operation Zhusan is a large-scale action', True),  # its first word written small
        ("Operation Zhusan", "cooperation Zhusan", False),
        ("Operation Zhusan", "operation zhusan", False),  # only the first word's first letter
        ("IMU", "imu", False),  # a one-word name keeps its case
    ],
)
def test_a_names_first_word_may_be_written_small(name, text, found):
    assert bool(mentions(name).search(text)) is found


def test_what_an_operation_is_comes_from_the_sentence_that_says_it_is_one(service):
    answer = service.ask("What is Operation Zhusan?").answer
    assert answer is not None and "operation Zhusan is a large-scale action" in answer.text


@pytest.mark.parametrize(
    "name, sentence, says",
    [
        ("Olga Ryl", "Olga Ryl, Director of NGO Pravo in Kazakhstan, who worked directly with returnees", True),
        ("Aleksandra Utepova", "Aleksandra Utepova, the spokeswoman for the Kazakhstan Air Assault Troops, wrote", True),
        ("Operation Meerim", "Kyrgyzstan repatriated 79 children during Operation Meerim, translated as Grace, thus", True),
        ("ISIS", "the so-called caliphate by the Islamic State in Iraq and Syria (ISIS) in June 2014", True),
        ("Bulan Institute", "The Bulan Institute for Peace Innovations is a research institute", True),
        ("ISIS", "The subsequent territorial defeat of ISIS on March 23rd, 2019, prompted", False),
        ("Kazakhstan", "Kazakhstan, Kyrgyzstan and Uzbekistan repatriated", False),  # a list
        ("Barqaror Hayot", "NGOs, such as Barqaror Hayot, who are involved in", False),  # a clause on what it did
        ("Barqaror Hayot", "According to Oliya Ilmuratova, director of the NGO Barqaror Hayot, the rehabilitation model is", False),
        ("Operation Meerim", "A significant element of the preparations before Operation Meerim was the work", False),
    ],
)
def test_a_sentence_that_says_what_a_name_is(name, sentence, says):
    assert introduces(mentions(name), sentence) is says


@pytest.mark.parametrize(
    "name, sentence, spelt",
    [
        ("IMU", "Several terrorist groups, such as the Islamic Movement of Uzbekistan (IMU) and the", True),
        ("ISIS", "ISIS (Islamic State in Iraq and Syria) declared", True),
        ("IMU", "From the IMU, various groups such as the Islamic Movement in Central Asia evolved", False),
        ("Olga Ryl", "Olga Ryl, Director of NGO Pravo in Kazakhstan", False),
    ],
)
def test_a_sentence_that_spells_a_name_out(name, sentence, spelt):
    assert spells_out(mentions(name), sentence) is spelt


def test_an_acronym_look_up_prefers_the_sentence_that_spells_it_out(service):
    """"From the IMU, various groups ..." reads as apposition (its comma closes an opening phrase) and the scorer ranked it first."""
    assert "Islamic Movement of Uzbekistan (IMU)" in service.ask("What is IMU?").answer.text


def test_a_name_look_up_prefers_the_sentence_that_spells_a_name_out(service):
    """The answer scorer alone chose "The subsequent territorial defeat of ISIS ..." for "What is ISIS?"."""
    assert "Islamic State in Iraq and Syria (ISIS)" in service.ask("What is ISIS?").answer.text
    assert service.ask("Who is Mr. Sainazarov?").answer.text.startswith("Keneshbek Sainazarov, Central Asia Director at Search for Common Ground")


def test_a_name_look_up_answers_with_the_sentence_that_says_who_it_is(service):
    result = service.ask("Who is Olga Ryl?")
    assert result.lookup == "name" and result.answer.confidence == 1.0
    assert result.answer.text.startswith("Olga Ryl, Director of NGO Pravo in Kazakhstan")
    assert result.passages[0].chunk_id == result.answer.chunk_id and result.passages[0].score == 1.0
    assert all("Olga Ryl" in p.text for p in result.passages if p.score == 1.0)


def test_a_name_look_up_answers_the_same_in_every_mode(service):
    answers = {service.ask("What is the Pravo Public Fund?", mode=mode).answer.text for mode in ("hybrid", "dense", "keyword")}
    assert answers == {"The rehabilitation centers of the Pravo Public Fund, located across the country, have been important in the rehabilitation of returnees."}


def test_a_name_the_report_never_gives_gets_no_answer_and_says_why(service):
    result = service.ask("Who is Sadyr Japarov?")
    assert result.lookup == "name" and result.answer is None
    assert "never names 'Sadyr Japarov'" in result.no_answer_reason and result.passages


def test_a_misspelt_name_is_matched_to_the_report_s_spelling():
    names = names_in(["According to pediatrician Dr. Albina Aitpagambetova.", "In Kazakhstan, the Pravo Public Fund", "Olga Ryl, Director"], 2)
    assert {"Albina Aitpagambetova", "Pravo Public"} <= names and not {"the Pravo", "Kazakhstan the", "Ryl Director"} & names
    assert spelt_like("Albina Aytpagambetova", names) == "Albina Aitpagambetova"
    assert spelt_like("Sadyr Japarov", names) is None


def test_a_misspelt_name_gets_the_report_s_spelling_in_the_reason(service):
    result = service.ask("Who is Albina Aytpagambetova?")
    assert result.answer is None and "it does name 'Albina Aitpagambetova'" in result.no_answer_reason


def test_a_word_the_report_writes_in_lower_case_is_not_a_name(service):
    """ "What is Rehabilitation?" asks what the word means: a name look-up answered it with the report's title."""
    assert service.ask("What is Rehabilitation?").lookup is None
