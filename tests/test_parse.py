"""The parsed report against the text: footnotes, markers, rejoined paragraphs, headings, table."""

from __future__ import annotations

import re

import pytest

from rag.parse import MARKER_RE, CorpusError, credit_kind, parse_file, parse_text, sentence_spans

INTRO = "Introduction"
S1 = "Section I: The Central Asian Context in Brief"
S2 = "Section II: Central Asian Citizens Who Joined ISIS"
S3 = "Section III: An Overview of Repatriation Operations in the Region"
S4 = "Section IV: Rehabilitation and Reintegration of Returnees in Central Asia"
S5 = "Section V: Emerging Good Practice and Early Indicators of Success"
S6 = "Section VI: Limitations and Drawbacks"
KZ_PROGRAM = "Kazakhstan's Rehabilitation and Reintegration Program"
UZ_PROGRAM = "Uzbekistan's Rehabilitation and Reintegration Program"


def paragraph_with(doc, snippet: str):
    found = [p for p in doc.paragraphs if snippet in p.clean]
    assert len(found) == 1, f"{len(found)} paragraphs contain {snippet!r}"
    return found[0]


def test_all_242_footnotes_with_text(report):
    assert sorted(report.footnotes) == list(range(1, 243))
    assert all(f.text.strip() for f in report.footnotes.values())
    assert report.warnings == ()


def test_each_footnote_has_exactly_one_inline_marker(report):
    cited = [n for p in report.paragraphs for n in p.footnotes]
    assert sorted(cited) == list(range(1, 243))


@pytest.mark.parametrize(
    "number, first, last",
    [
        (62, "Reuters Staff, 'Uzbekistan Repatriates 98 People", "uzbekistan-repatriates-93-women-children-syrian-camp-2021-04-30/>>"),
        (91, "'Life After IS", "Not to Blame"),
        (96, "Interview with Panel discussion organized by Atlantic Council", "'Life After IS: What Awaits Kazakhstanis upon Return Home?'. *Ibid.*"),
        (130, "Bondal", "Reuters Staff. Uzbekistan Repatriates 93 Women, Children from Syrian Camp. *Ibid*."),
        (140, "Nodirbek Soliev", "Farangis Najibullah"),
        (145, "Victor Sidorenko", "Radio Ozodlik"),
        (150, "Interview of Oliya Ilmuratova. Ibid.", "Konstantin Agafonov, ‘Return from the War’. Ibid."),
        (151, "Rumble Mirzo", "Happy Life’. Ibid."),
        (193, "Nodirbek Soliev", "Farangis Najibullah"),
        (214, "Cornell, S. Starr and Tucker", "2018-04-Kazakhstan-Secularism.pdf>>"),
        (215, "Radio Azattyk", "Edward Lemon, ibid."),
        (217, "Victor Mikhailov", "dobro.html>>"),
    ],
)
def test_run_on_footnotes_are_whole(report, number, first, last):
    text = report.footnotes[number].text
    assert text.startswith(first)
    assert text.rstrip().endswith(last) or last in text.splitlines()[-1]


def test_body_text_after_a_footnote_block_is_not_taken_for_a_run_on_footnote(report):
    assert report.footnotes[179].text == "Interview with Aliza Soltonbekova was conducted by the Bulan Institute"


def test_footnote_with_no_space_after_number(report):
    assert report.footnotes[151].text.startswith("Rumble Mirzo")
    assert report.footnotes[157].text.startswith("Victor Sidorenko")


def test_no_marker_digits_in_clean_text(report):
    for p in report.paragraphs:
        for s in p.sentences:
            assert not MARKER_RE.search(s.clean), s.clean


def test_display_text_keeps_markers_as_brackets(report):
    p = paragraph_with(report, "Interviews conducted by the Bulan Institute with female returnees")
    assert "prosperity[35]." in p.display
    assert paragraph_with(report, "radical religious ideology promoted under ISIS").display.count("ISIS[112]") == 1


@pytest.mark.parametrize(
    "before, after",
    [
        ("influenced the decision to travel to the conflict zone. The", "nature of the involvement of men, women, children"),
        ("On December 8th, 2020, 73", "children and 25 women were brought back to Tashkent"),
        ("the activities of the Ministry of Foreign", "Affairs, the state committee for national security"),
        ("has shown the extent to the", "physical and psychological suffering"),
        ("cornerstone of the current Tajik", "repatriation operation ."),
        ("Some of them know some", "English and French. They never went to school"),
    ],
)
def test_paragraphs_cut_by_page_breaks_are_rejoined(report, before, after):
    matches = [p for p in report.paragraphs if before in p.clean]
    assert len(matches) == 1
    assert f"{before} {after}" in matches[0].clean


def test_no_body_paragraph_ends_mid_sentence(report):
    from rag.parse import ends_sentence

    for p in report.paragraphs:
        if p.kind == "text":
            assert ends_sentence(p.sentences[-1].clean) or p.clean.endswith(")"), p.clean[-80:]


def test_table_1_cells(report):
    (table,) = report.tables
    assert table.caption == "Table 1. Number of repatriates by country"
    assert table.header == ("Country", "Kazakhstan: Operations Zhusan and Rusafa", "Uzbekistan: Operation Mehr", "Tajikistan", "Kyrgyzstan: Operation Meerim")
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["Men"] == ("37", "0", "0", "0")
    assert rows["Women"] == ("188", "141", "0", "0")
    assert rows["Children"] == ("497", "334", "84", "79")
    assert rows["Total"] == ("722", "435", "84", "79")
    assert rows["Number of phases"] == ("5", "4", "1", "1")
    assert rows["Repatriation sites"] == ("Iraq and Syria", "Iraq and Syria", "Iraq only", "Iraq only")
    assert table.heading_path == (S3,)
    assert not any("\t" in p.clean or "Operations Zhusan and Rusafa Uzbekistan" in p.clean for p in report.paragraphs)


@pytest.mark.parametrize(
    "snippet, path",
    [
        ("more than 40,000 foreign terrorist fighters from 110 countries", (INTRO,)),
        ("around 23% of the region's population has migrated to Russia", (S1,)),
        ("1 in 40,000 Tajik citizens", (S2,)),
        ("Table 1 presents the number of people repatriated", (S3,)),
        ("The first part of Operation Zhusan took place", (S3, "Kazakhstan’s Repatriates: Operations Zhusan and Rusafa")),
        ("facilitated the return of 435 women and children", (S3, "Uzbekistan’s Repatriates: Operation Mehr")),
        ("84 children were repatriated to Tajikistan", (S3, "Tajikistan's Repatriates: Children Rescued from Iraq")),
        ("Kyrgyzstan repatriated 79 children from Iraq", (S3, "Kyrgyzstan’s Repatriates: Operation Meerim")),
        ("subjected to a period of one month in quarantine", (S4, KZ_PROGRAM, "One Month of Quarantine")),
        ("called Zoom Jusan", (S4, KZ_PROGRAM, "Adaptations in the Face of COVID-19")),
        ("Kazakhstan is arguably the Central Asian country with the most political will", (S4, KZ_PROGRAM, "Summary")),
        ("Imam al-Bukhari International Research Center in Samarkand", (S4, UZ_PROGRAM, "Religious Counselling")),
        ("children in 17 different orphanages", (S3, "Tajikistan's Repatriates: Children Rescued from Iraq")),
        ("children’s residential home in the Chuy region", (S4, "Kyrgyzstan’s Rehabilitation and Repatriation Program")),
        ("For example, the Tajik Civil War", (S5, "a. Previous experience and collaboration with civil society")),
        ("The careful approach to repatriation operations", (S5, "c. Operational qualities")),
        ("efforts to bridge gender gaps through economic empowerment", (S6, "d. Lack of a gender-sensitive approach")),
        ("Central Asian states have been on the front lines", ("Conclusion",)),
        ("The Bulan Institute for Peace Innovations is a research institute", ("About Us",)),
    ],
)
def test_heading_paths(report, snippet, path):
    matches = [p for p in report.paragraphs if snippet in p.clean]
    assert matches, snippet
    assert matches[0].heading_path == path


def test_toc_is_not_body_text(report):
    assert report.toc[0] == ("Introduction", 1)
    assert ("Kazakhstan's Repatriates: Operations Zhusan and Rusafa", 2) in report.toc
    assert not any(re.search(r"Brief\t?8", p.clean) for p in report.paragraphs)
    assert report.title == "The Repatriation, Rehabilitation and Reintegration of Women and Children from Syria and Iraq"


def test_bibliography_entries(report):
    entries = [b.text for b in report.bibliography]
    assert len(entries) == 67
    assert any(e.startswith("Raychev Y") and "Razdykova" not in e for e in entries)  # a line ending in a letter
    assert any(e.startswith("Razdykova G") for e in entries)
    assert entries[0].startswith("Abdyldaev N")
    assert entries[-1].startswith("Zhursin Z")
    un = next(e for e in entries if e.startswith("United Nations, 'Greater Cooperation"))
    assert "Press Releases'" in un  # a title cut over two lines is one entry
    assert not any(b.text[:1].islower() for b in report.bibliography)


def test_sentence_offsets_point_into_the_source(report, report_text):
    for p in report.paragraphs[::7]:
        for s in p.sentences:
            src = MARKER_RE.sub("", report_text[s.start : s.end])
            first_words = " ".join(s.clean.split()[:3])
            assert re.sub(r"\s+", " ", src).replace("*", "").startswith(first_words)


def test_credits_read_as_a_list_and_keep_their_offsets(report, report_text):
    credits, imprint = next(p for p in report.paragraphs if "RESEARCH TEAM" in p.clean).sentences
    assert credits.clean == (
        "RESEARCH TEAM — Head: Cholpon Orozobekova; Senior researchers: Cholpon Orozobekova, Sarah Wolfe; Researchers: Javier Ojeda Escudero, "
        "Matthieu Guillier, Cholpon Kainazarova, Kubanychbek Kadyrbekov, Keshav Khanna, Minji Sung, Jennifer Torner."
    )
    assert imprint.clean.startswith("Published June 2021; Cover picture credit")
    assert report_text[credits.start : credits.end].startswith("RESEARCH TEAM\n\nHead") and report_text[credits.start : credits.end].endswith("Jennifer Torner")


@pytest.mark.parametrize(
    "line, kind",
    [("RESEARCH TEAM", "group"), ("Head", "role"), ("Senior researchers", "role"), ("Javier Ojeda Escudero", "name"),
     ("Minji Sung", "name"), ("Published June 2021", "other"), ("BULAN INSTITUTE for PEACE INNOVATIONS", "other")],
)
def test_credit_lines_are_told_apart(line, kind):
    assert credit_kind(line) == kind


def test_sentence_splitting_respects_initials_and_abbreviations():
    text = "According to Vladimir I. Voronkov, the U.S. Department said so.¹ Then Mr. Sainazarov spoke. Done"
    parts = [text[a:b] for a, b in sentence_spans(text)]
    assert parts == ["According to Vladimir I. Voronkov, the U.S. Department said so.¹", "Then Mr. Sainazarov spoke.", "Done"]


SECOND = """A Short Note on Returnees

Introduction

Returnees were counted twice.¹ The second count was lower.²

Findings

a. First finding

Most returnees found work within a year.³

¹ Ministry of Labour, 'Annual Report' (2020).

² Ibid.

³ Interview with a social worker.
"""


def test_a_second_document_has_its_own_ids_and_numbering(tmp_path):
    path = tmp_path / "short-note.txt"
    path.write_text(SECOND, encoding="utf-8")
    doc = parse_file(path)
    assert doc.doc_id == "short-note"
    assert doc.title == "A Short Note on Returnees"
    assert sorted(doc.footnotes) == [1, 2, 3]
    assert doc.footnotes[2].text == "Ibid."
    work = paragraph_with(doc, "found work")
    assert work.heading_path == ("Findings", "a. First finding")
    assert work.display == "Most returnees found work within a year.[3]"
    assert doc.warnings == ()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "has no text"),
        (b"\n\n   \n", "has no text"),
        (b"Title\n\nSome text \xff\xfe here.\n", "not valid UTF-8"),
        (b"Title\x00\x01binary", "binary data"),
    ],
)
def test_malformed_files_give_a_clear_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(CorpusError) as err:
        parse_file(path)
    assert message in str(err.value) and "bad.txt" in str(err.value)


def test_non_utf8_error_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"Title\n\nline two\n\nbad \xff byte\n")
    with pytest.raises(CorpusError, match=r"bad.txt:5"):
        parse_file(path)


def test_unexpected_structure_is_ingested_with_warnings(tmp_path):
    text = "Title\n\nBody with a marker.⁷ And more text.\n\n⁹ A footnote never cited.\n\nTable 2. Nothing\n\nplain line\n"
    doc = parse_text(text, "odd", "odd.txt")
    joined = "\n".join(doc.warnings)
    assert "marker 7 has no footnote definition" in joined
    assert "footnote 9 is never cited" in joined
    assert "Table 2. Nothing' has no tab-separated rows" in joined
    assert all(w.startswith("odd.txt:") for w in doc.warnings)



def test_the_exports_markdown_escapes_are_undone(report):
    """ "\\$1million" and "\\(caravan.kz\\)" in the file: readers quote "$1million", not the markup."""
    budget = next(s for p in report.paragraphs for s in p.sentences if "1million" in s.clean)
    assert "$1million" in budget.clean and "$1million" in budget.display and "\\" not in budget.display
    assert "(caravan.kz)" in report.footnotes[106].text
    assert not any("\\" in s.display for p in report.paragraphs for s in p.sentences)
