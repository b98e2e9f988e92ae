"""What kind of thing a question asks for (a sum, a share, an age, a duration, a date, a number),
and whether a text holds one besides the figures the question itself gives.

Answer-type matching, as in the TREC question-answering systems: answer selection uses it to prefer
sentences that hold the kind asked for, the no-answer model to notice a near miss that holds none, and
retrieval can use it to lift such passages (`type_prior`, off: README, "Answer-type prior").
"""

from __future__ import annotations

import re
from functools import lru_cache

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
                 r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|dozens?")
_WORD_NUMBER = r"(\d[\d,.]*|an?|" + _NUMBER_WORDS + r"|several|few|many)"
# What a question asks for, most specific first: each kind with the pattern of a question asking
# for it and of a sentence that holds one. A sentence without the kind asked for is a near miss.
_KINDS: tuple[tuple[str, re.Pattern, re.Pattern], ...] = (
    ("money",
     re.compile(r"\bhow much\b.*\b(cost|costs|spend|spent|pay|paid|fund|funds|funding|budget|money|fine|worth|allowance|salary|salaries|earn|price)\b"
                r"|\bwhat (amount|budget|sum|salary|allowance|price|fine)\b", re.I),
     re.compile(r"[$€£]|\b(USD|dollars?|euros?|tenge|soms?|somoni|rubles?|roubles?|million|billion)\b", re.I)),
    ("share",
     re.compile(r"\bwhat (percentage|share|proportion|fraction)\b|\bhow many per ?cent\b|\bwhat per ?cent\b", re.I),
     re.compile(r"%|\bper ?cent\b|\b(half|third|quarter|majority|minority|most|all)\b", re.I)),
    ("age",
     re.compile(r"\bhow old\b|\b(what|which|average|mean) ages?\b|\bage (range|group)\b", re.I),
     re.compile(r"\b(years? old|aged?|ages|under " + _WORD_NUMBER + r"|" + _WORD_NUMBER + r" (and|to) " + _WORD_NUMBER + r"|infants?|babies|toddlers)\b", re.I)),
    ("duration",
     re.compile(r"\bhow long\b|\bhow many (hours|days|weeks|months|years)\b", re.I),
     re.compile(r"\b" + _WORD_NUMBER + r"(\s+\w+)?\s+(hours?|days?|weeks?|months?|years?|decades?)\b", re.I)),
    ("date",
     re.compile(r"^(when|since when)\b|\b(what|which|in which) (year|date|month|day)\b|\bon (what|which) dates?\b", re.I),
     re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")),
    ("number",
     re.compile(r"\b(how (many|much)|what number|number of|percent)", re.I),
     re.compile(r"\d|\b(" + _NUMBER_WORDS + r")\b", re.I)),
)
_ASKS_OTHER = re.compile(r"^\W*(why|who|whose|whom|which|where)\b", re.I)
_CLAUSE_START = re.compile(r"(^\W*|([,;]|\b(and|or|if so))(\s+(in|on|at|for|by|since|from))?)\s*$", re.I)  # what precedes a clause of its own
_FIGURE = re.compile(r"\d(?:[\d,.]*\d)?|\b(?:" + _NUMBER_WORDS + r")\b", re.I)  # "79", "sixteen"
_HOLDS = {kind: holds for kind, _, holds in _KINDS}
KINDS = tuple(_HOLDS)


def expected_type(question: str) -> str | None:
    """The kind of thing asked for ("money" for "how much did it cost"), or None.

    A question opening with "Why", "Who", "Which" or "Where" asks for that, whatever figures it
    mentions ("Which city hosts the largest number of returnees?", "Why are there no figures on how
    many left?"), unless a later clause asks for the kind itself ("..., and how many men did it bring back?")."""
    asks_other = _ASKS_OTHER.match(question)
    for kind, asks, _ in _KINDS:
        for m in asks.finditer(question):
            if not asks_other or _CLAUSE_START.search(question[: m.start()]):
                return kind
    return None


@lru_cache(maxsize=8192)  # mostly the report's own sentences; saves a regex per sentence per query
def matches_type(text: str, kind: str | None) -> bool:
    return kind in _HOLDS and bool(_HOLDS[kind].search(text))


def holds_new(text: str, kind: str, given: frozenset[str]) -> bool:
    """Whether `text` holds the kind asked for besides the figures the question itself gives:
    "How many of the 79 children were girls?" is not answered by "79 children were repatriated"."""
    if given:
        text = _FIGURE.sub(lambda m: " " if m.group().casefold() in given else m.group(), text)
    return matches_type(text, kind)


def given_figures(question: str) -> frozenset[str]:
    return frozenset(f.casefold() for f in _FIGURE.findall(question))
