"""Questions that are citation look-ups: "What does footnote 47 say?", "[47]", "Which passages cite Raychev?".

Retrieval cannot answer them: a footnote's number is not in any passage's text, and a source's name
mostly sits in the footnote, not the passage; the other words ("footnote", "say", "cite") match
nothing in particular, so such questions used to get "no answer" and unrelated passages. They are
look-ups, not searches: the answer is the sentence that carries the note's marker, with the note
resolved to its source, and the passages are the ones that cite it, ahead of whatever the
question's words retrieve.
"""

from __future__ import annotations

import re

from rag.answer import AnswerChoice, excerpts_of
from rag.models import Hit

# "footnote 47", "footnotes 12 and 13", "footnotes 44-47", "fn. 3", "note no. 9", "what does note 12 say";
# not any bare "note 12", which is as often the verb ("the authors note 12 cases"): only at the start or
# after a word a verb "note" does not follow. A range longer than MAX_RANGE is read as its two ends
# ("footnotes 1 to 242" is not a request for every note).
_NAMED = re.compile(
    r"\b(?:(?:foot\s?|end\s?)notes?\s*(?:no\.|number|#)?|notes?\s*(?:no\.|number|#)|fn\.?"
    r"|(?:^\W*|\b(?:does|do|in|see|of|from|and|is|by)\s+)notes?)\s*"
    r"(\d{1,4}(?:\s*(?:,|&|\band\b|\bor\b|\bto\b|-|–)\s*\d{1,4})*)\b",
    re.I,
)
_RANGE = re.compile(r"(\d+)(?:\s*(?:\bto\b|-|–)\s*(\d+))?")
_BRACKETED = re.compile(r"\[(\d{1,4})\]")  # a marker as the service prints it, pasted into a question
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
MAX_SOURCE_PASSAGES = 3  # the answer to "which passages cite X": the marked sentences of the first few
LOOKUP_SCORE = 1.0  # a passage citing the named footnote or source: an exact match, not a similarity


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


def footnote_answer(numbers: tuple[int, ...], hits: list[Hit]) -> AnswerChoice | None:
    """For each named footnote, the sentences carrying its marker, from the first passage that has them,
    as one excerpt per passage (chunks overlap by a sentence: a sentence is given once)."""
    picks = []
    for n in numbers:
        hit = next((h for h in hits if any(n in s.footnotes for s in h.chunk.sentences)), None)
        if hit is not None:
            picks += [(hit, s) for s in hit.chunk.sentences if n in s.footnotes and all(s != p for _, p in picks)]
    return AnswerChoice(excerpts_of(picks), 1.0) if picks else None
