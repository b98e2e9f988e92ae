"""Questions that are look-ups: "What does footnote 47 say?", "[47]", "Which passages cite Raychev?", "Who wrote this report?",
"How many women did Uzbekistan repatriate?" (a cell of Table 1), "Who is Olga Ryl?" (a name the report introduces).

Retrieval cannot answer them: a footnote's number is not in any passage's text, and a source's name
mostly sits in the footnote, not the passage; the other words ("footnote", "say", "cite") match
nothing in particular, so such questions used to get "no answer" and unrelated passages. They are
look-ups, not searches: the answer is the sentence that carries the note's marker, with the note
resolved to its source, and the passages are the ones that cite it, ahead of whatever the
question's words retrieve.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from rag.answer import AnswerChoice, excerpts_of
from rag.answer_type import expected_type
from rag.models import Chunk, Hit

# "footnote 47", "footnotes 12 and 13", "footnotes 44-47", "fn. 3", "note no. 9", "what does note 12 say";
# not any bare "note 12", which is as often the verb ("the authors note 12 cases"): only at the start or
# after a word a verb "note" does not follow. A range longer than MAX_RANGE is read as its two ends
# ("footnotes 1 to 242" is not a request for every note).
_NAMED = re.compile(
    r"\b(?:(?:foot\s?|end\s?)notes?\s*(?:no\.|number|#)?|notes?\s*(?:no\.|number|#)|fn\.?"
    r"|(?:^\W*|\b(?:does|do|in|see|of|from|and|is|by)\s+)notes?)\s*"
    r"(\d+(?:\s*(?:,|&|\band\b|\bor\b|\bto\b|-|–)\s*\d+)*)\b",
    re.I,
)
_RANGE = re.compile(r"(\d+)(?:\s*(?:\bto\b|-|–)\s*(\d+))?")
_BRACKETED = re.compile(r"\[(\d+)\]")  # a marker as the service prints it, pasted into a question
MAX_RANGE = 10
# "Which passages cite Raychev?", "Where does the report cite UNICEF?", "Where is Tucker cited?", "What
# does the report cite Reuters for?": asked of a source by name. Only these explicit forms: "Which outlet
# is cited for the 40,000 fighters?" asks for a source, and is a search.
_SOURCE_ASKED = tuple(
    re.compile(p, re.I)
    for p in (
        r"^\W*(?:which|what) (?:passages?|parts? of the report|sentences?|claims?|(?:foot)?notes?) (?:cites?|citing|quotes?|quoting"
        r"|rests? on|rel(?:y|ies) on|draws? on|refers? to|references?) (?P<name>.+?)\W*$",
        r"^\W*where (?:does|do) (?:the report|the authors|it) (?:cite|quote|draw on|rely on|refer to) (?P<name>.+?)\W*$",
        r"^\W*where (?:is|are) (?P<name>.+?) (?:cited|quoted)\W*$",
        r"^\W*what does the report cite (?P<name>.+?) for\W*$",
    )
)
# "Who wrote this report?", "When was the report published?", "Who is on the research team?": asked of the
# report itself, which only its front matter (title page, credits) answers, and whose words ("wrote",
# "report") match the body's many sentences about what "this report" does. Not "Which authors does the
# report cite ...", nor "the researchers" of a sentence in the body: only these forms, ending there.
_REPORT = r"(?:this|the) (?:report|study|research|paper|publication)"
_REPORT_ASKED = tuple(
    re.compile(p, re.I)
    for p in (
        rf"^\W*who (?:wrote|authored|researched|prepared|produced|published|compiled|conducted|led|issued|is behind|was behind) {_REPORT}\W*$",
        rf"^\W*who (?:is|are|was|were) (?:the )?(?:authors?|researchers|research team|publishers?|on the research team)(?: (?:of|behind|for) {_REPORT})?\W*$",
        rf"^\W*who (?:is|are|was|were) {_REPORT}(?:'s)? (?:authors?|researchers|research team|publishers?) ?\W*$",
        rf"^\W*(?:which|what) (?:organi[sz]ation|institute|institution|think tank|ngo|body) (?:wrote|published|produced|prepared|issued|is behind) {_REPORT}\W*$",
        rf"^\W*when (?:was|is) {_REPORT} (?:published|written|released|issued|dated|out)\W*$",
        rf"^\W*what (?:is|was) the (?:full )?title of {_REPORT}\W*$",
        rf"^\W*who (?:was|is) the head of the research team\W*$",
        rf"^\W*how (?:do|should|can|would|to) (?:i |we |you |one )?(?:cite|reference) {_REPORT}\W*$",
    )
)
MAX_SOURCE_PASSAGES = 3  # the answer to "which passages cite X": the marked sentences of the first few
LOOKUP_SCORE = 1.0  # a passage citing the named footnote or source: an exact match, not a similarity


# "How many women did Uzbekistan repatriate?" names a column and a row of Table 1: a look-up of that cell.
# Search finds the cell, but the verifier, trained on prose, reads "Uzbekistan (Operation Mehr): women 141."
# as a near miss to questions worded otherwise ("How many people in total did Kazakhstan repatriate?": logit
# -4.2, no answer). A question is such a look-up only when it asks for a number and every content word it
# has is the column's, the row's, the caption's, or one of these, which say in other words what a count of
# repatriates is or add nothing: "How many children did Kazakhstan repatriate from Iraq?" is not one.
_TABLE_FILLER = ("table people persons citizens nationals individuals bring brought back home return returned returnees "
                 "repatriate repatriated operation operations government carry carried give gives show shows "
                 "among amongst during each per any")
_TOTAL_WORDS = "total altogether overall combined"  # the "Total" row, however it is asked for
_TABLE_NUMBER = re.compile(r"\btable\s+\d+\b", re.I)
# "How many children did Kyrgyzstan repatriate and when?" asks for more than the cell holds: a date, a place,
# a reason. Those words are stop words to the keyword index, so the content-word test alone lets them through.
_ASKS_MORE = re.compile(r"\b(?:when|where|why|who|whom|whose)\b|\bhow\b(?!\s+(?:many|much)\b)", re.I)
Terms = Callable[[str], list[str]]  # the keyword index's stemmer: a text's content words


def table_cells_named(question: str, cells: Sequence[tuple[int, Chunk]], terms: Terms) -> list[int]:
    """The index rows of the table cells a question asks for, in table order; [] when it is not a look-up.

    `cells` are the table_cell chunks with their index rows. Naming a row as well as "in total"
    asks for that row ("How many children in total ..."); several columns or rows, for each cell."""
    if expected_type(question) != "number" or _ASKS_MORE.search(question):
        return []
    question = _TABLE_NUMBER.sub(" ", question)
    asked = set(terms(question))
    words = {w.lower().removesuffix("'s") for w in re.findall(r"[A-Za-z][\w'-]*", question)}
    covered = set(terms(_TABLE_FILLER)).union(*(terms(c.cell[0]) for _, c in cells))
    columns, rows = set(), set()
    for _, chunk in cells:
        _, column, row = chunk.cell
        if (named := _column_terms(column, words, terms)) is not None:
            columns.add(column)
            covered |= named
        if said := _row_terms(chunk.cell, terms) & asked:
            rows.add(row)
            covered |= said
    rows = {r for r in rows if not _is_total(r, terms)} or rows
    if not columns or not rows or asked - covered:
        return []
    return [i for i, c in cells if c.cell[1] in columns and c.cell[2] in rows]


def _column_terms(column: str, words: set[str], terms: Terms) -> set[str] | None:
    """The question's words that name a column ("Kazakhstan: Operations Zhusan and Rusafa"), as terms, or None when
    none does. Its country names it ("Kazakhstan", "Kazakh"), or all its operations together: "Operation Rusafa"
    alone asks about a part of the column, and is left as a word the table does not cover."""
    country, _, detail = column.partition(":")
    operations = [o.strip() for o in re.split(r",|\band\b", re.sub(r"\bOperations?\b", "", detail)) if o.strip()]
    naming = {w for w in words if _names(country.strip(), w)}
    if operations and all(any(_names(o, w) for w in words) for o in operations):
        naming |= {w for w in words if any(_names(o, w) for o in operations)}
    elif not naming:
        return None
    return {t for w in naming for t in terms(w)}


def _names(name: str, word: str) -> bool:
    """Whether the word is `name`, or its adjective or plural ("Kazakh", "Kazakhs" for Kazakhstan)."""
    name = name.lower()
    return word == name or (len(word) >= 4 and name.startswith(word.rstrip("s")))


def _row_terms(cell: tuple[str, ...], terms: Terms) -> set[str]:
    """The words that ask for a cell's row: its label's, less the caption's ("Number of phases": "phase"); the Total row's synonyms."""
    caption, _, row = cell
    if _is_total(row, terms):
        return set(terms(_TOTAL_WORDS))
    return set(terms(row)) - set(terms(caption)) or set(terms(row))


def _is_total(row: str, terms: Terms) -> bool:
    return bool(terms(row)) and set(terms(row)) <= set(terms(_TOTAL_WORDS))


# "Who is Olga Ryl?", "What is the Pravo Public Fund?": asked of a name alone. The report says who or what
# it is where it names it ("Olga Ryl, Director of NGO Pravo"), but the verifier, trained on questions that
# ask something of a name, read those sentences as near misses: half of such questions got "no answer".
# The question must be the name and nothing else, each word capitalised but for a few joining words
# ("Khatiba Imam al-Bukhari"): "Who is the commander of ...?" or "What is UNICEF's role?" ask for more.
_NAME_ASKED = re.compile(r"^\W*(?:who|what) (?:is|was|are|were) (?:the )?(?P<name>[^?!]+?)[\s?!.]*$", re.I)
# A title before a name is dropped, as the report gives one as often as not ("Ambassador Ulugbek Lapasov", "Ulugbek Lapasov").
_TITLES = {"mr", "mrs", "ms", "dr", "prof", "professor", "ambassador", "president"}
_NAME_JOINS = {"of", "for", "and", "the", "in", "on", "de", "du", "al", "el", "bin", "ibn"}
_PUNCTUATION = ".,;:!?()[]\"'“”‘’«»*"
_BREAKS = re.compile(r"[,;:!?()\[\]\"“”«»—]|\.(?:\s|$)")  # where a name cannot run on
# difflib's ratio above which a name the report does not give is taken for a misspelling of one it does:
# "Albina Aytpagambetova" against the report's "Albina Aitpagambetova" is 0.95; "Operation Kunduz" against
# "Operation Zhusan", 0.75. It is offered as a suggestion only: "Fatima Yusupova" would be 0.97 from a "Fatima Yusupovna".
SPELLING_CUTOFF = 0.85


def name_asked(question: str) -> str | None:
    """The name a question asks who or what it is ("Olga Ryl"), or None."""
    m = _NAME_ASKED.match(question.strip())
    if not m:
        return None
    words = m.group("name").split()
    if len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    return " ".join(words) if _is_name(words) else None


def _is_name(words: Sequence[str]) -> bool:
    """Its first and last word capitalised, the rest too but for joining words ("Bulan Institute for Peace Innovations")."""
    return bool(words) and _capitalised(words[0]) and _capitalised(words[-1]) and all(_capitalised(w) or w in _NAME_JOINS for w in words)


def _capitalised(word: str) -> bool:
    """ "Ryl", "al-Bukhari", "Kasym-Zhomart": a word of a name."""
    prefix, _, rest = word.rpartition("-")
    return word[0].isupper() or (prefix.lower() in _NAME_JOINS and rest[:1].isupper())


def mentions(name: str) -> re.Pattern[str]:
    """The name as the report may spell it: word for word, an initial allowed between its words ("Vladimir I. Voronkov").
    What may not come before it is checked after its first word: a pattern that opens with a literal is
    searched for that literal, fifty times faster over the whole report than one opening with a look-behind."""
    first, *rest = (re.escape(w) for w in name.split())
    tail = "".join(rf"\s+(?:[A-Z]\.\s+)?{w}" for w in rest) + r"(?![\w-])"
    # "the humanitarian operation Zhusan is ...": a longer name's first word may be written small
    openings = [first, first[0].lower() + first[1:]] if rest and first[:1].isupper() else [first]
    return re.compile("|".join(rf"{o}(?<![\w-]{o}){tail}" for o in openings))


# Where a sentence says what the name it gives is (what may follow the name; the name asked may be the first
# words of a longer one, "the Bulan Institute" for "The Bulan Institute for Peace Innovations is a ..."):
# - in apposition: "Olga Ryl, Director of ...", "Operation Meerim, translated as Grace", "Aleksandra Utepova,
#   the spokeswoman for ..."; not a list, "Kazakhstan, Kyrgyzstan and ...", nor a clause, "..., who are
#   involved", nor a comma closing an opening phrase, "According to ..., the rehabilitation model is ...";
# - spelt out, "ISIS (Islamic ...)", or as an acronym after its expansion (checked apart: "... Syria (ISIS)");
# - "is a", "was one of" ("was the" is as often "before Operation Meerim was the work ...").
_CONTINUED = r"(?:\s+(?:of|for|and|the|[A-Z][\w'-]*))*"
_SPELT_OUT_AFTER = re.compile(_CONTINUED + r"\s+\(")
_INTRODUCED_AFTER = re.compile(
    _CONTINUED
    + r"(?:,\s+(?![A-Z][\w'-]*(?:,|\s+and\b|\s+or\b)|(?:who|which|that|and|or|but|the)\b)"
    r"|,\s+the\s+(?:[\w-]+\s+){1,3}?(?:of|for|at|in|to)\b"
    r"|\s+(?:is|was|are|were)\s+(?:a|an|one of)\b)"
)


def spells_out(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether the sentence gives the name's expansion or its acronym beside it: "ISIS (Islamic ...)", "... Syria (ISIS)".
    For an acronym that is what "What is IMU?" asks, before "From the IMU, various groups ..." (whose comma
    closes an opening phrase and reads as apposition)."""
    return any(
        _SPELT_OUT_AFTER.match(sentence, m.end()) or (sentence[: m.start()].rstrip().endswith("(") and sentence[m.end() :].startswith(")"))
        for m in pattern.finditer(sentence)
    )


def introduces(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether the sentence says what the name it names is, not only names it: the sentence a "Who is ...?" wants.
    The answer scorer, asked "What is ISIS?", prefers "The subsequent territorial defeat of ISIS ..." to the one that spells it out."""
    return spells_out(pattern, sentence) or any(_INTRODUCED_AFTER.match(sentence, m.end()) for m in pattern.finditer(sentence))


def names_in(texts: Sequence[str], length: int) -> frozenset[str]:
    """Every run of `length` words in the texts that could be a name, not across punctuation ("Olga Ryl, Director"):
    what a misspelt name is compared with."""
    found = set()
    for segment in (part for text in texts for part in _BREAKS.split(text)):
        words = [w.strip(_PUNCTUATION) for w in segment.split()]
        for i in range(len(words) - length + 1):
            run = words[i : i + length]
            if all(run) and _is_name(run):
                found.add(" ".join(run))
    return frozenset(found)


def spelt_like(name: str, names: frozenset[str]) -> str | None:
    """The report's spelling of a name it spells otherwise ("Aytpagambetova" for "Aitpagambetova"), or None."""
    close = difflib.get_close_matches(name, names, n=1, cutoff=SPELLING_CUTOFF)
    return close[0] if close else None


def footnote_mentions(question: str) -> tuple[int, ...]:
    """The footnote numbers a question names, in the order it names them, each once."""
    found: list[tuple[int, int]] = []  # (position, number)
    for m in _NAMED.finditer(question):
        for r in _RANGE.finditer(m.group(1)):
            first, last = int(r.group(1)), int(r.group(2) or r.group(1))
            numbers = range(first, last + 1) if 0 <= last - first <= MAX_RANGE else (first, last)
            found += [(m.start(1) + r.start(), n) for n in numbers]
    found += [(m.start(), int(m.group(1))) for m in _BRACKETED.finditer(question)]
    return tuple(dict.fromkeys(n for _, n in sorted(found)))


def source_mention(question: str) -> str | None:
    """The source a question asks the citing passages of, as the question spells it."""
    for pattern in _SOURCE_ASKED:
        if m := pattern.match(question.strip()):
            return m.group("name")
    return None


# What the front matter says, by what is asked: who made the report, who published it, when, its title.
# A credits line reads "RESEARCH TEAM — Head: ...; Researchers: ..." (parse.credit_separator).
_CREDITS = re.compile(r"\b(?:team|authors?|researchers?|editors?|head|director)\s*(?:—|:)", re.I)
_IMPRINT = re.compile(r"\bpublished\b|©", re.I)
_FACETS = (  # (what the question asks, its words), first match wins; else it asks who made the report
    ("reference", re.compile(r"\b(?:cite|reference)\b", re.I)),
    ("date", re.compile(r"^\W*when\b", re.I)),
    ("title", re.compile(r"\btitle\b", re.I)),
    ("publisher", re.compile(r"\b(?:publish\w*|issued|organi[sz]ation|institute|institution|think tank|ngo|body)\b", re.I)),
)


def report_facet(question: str) -> str | None:
    """What a question about the report itself asks ("team", "publisher", "date", "title", "reference"), or None
    when it is not about the report itself."""
    if not any(p.match(question.strip()) for p in _REPORT_ASKED):
        return None
    return next((facet for facet, words in _FACETS if words.search(question)), "team")


def report_answer(facet: str, front: list[Hit], titles: dict[str, str]) -> AnswerChoice | None:
    """The front-matter sentences that say it: the credits and the imprint for who made the report,
    the imprint for who published it and when, the title line and the one after it (the subtitle),
    and for how to cite it the title lines and the imprint."""
    sentences = [(h, j, s) for h in front for j, s in enumerate(h.chunk.sentences)]
    at_title = [(h, j) for h, j, s in sentences if s.clean == titles.get(h.chunk.doc)]
    picks = [(h, s) for h, j in at_title for s in h.chunk.sentences[j : j + 2]] if facet in ("title", "reference") else []
    wanted = {"team": (_CREDITS, _IMPRINT), "title": ()}.get(facet, (_IMPRINT,))
    picks += [(h, s) for pattern in wanted for h, _, s in sentences if pattern.search(s.clean)]
    return AnswerChoice(excerpts_of(picks), 1.0) if picks else None


def footnote_answer(numbers: tuple[int, ...], hits: list[Hit]) -> AnswerChoice | None:
    """For each named footnote, the sentences carrying its marker, from the first passage that has them,
    as one excerpt per passage (chunks overlap by a sentence: a sentence is given once); the answer cites
    those footnotes only."""
    picks = []
    for n in numbers:
        hit = next((h for h in hits if any(n in s.footnotes for s in h.chunk.sentences)), None)
        if hit is not None:
            picks += [(hit, s) for s in hit.chunk.sentences if n in s.footnotes and all(s != p for _, p in picks)]
    return AnswerChoice(excerpts_of(picks), 1.0, cites=frozenset(numbers)) if picks else None
