"""Who each footnote cites: footnotes resolved to sources, so answers can name their evidence.

The report's footnotes are written by hand and cite in four ways: a full reference, a short
form naming an author or a title ("Tucker. Page 12.", "Reuters Staff. *Ibid*."), a bare
"Ibid." pointing at the footnote before, and interviews or panels conducted by the institute.
They are inconsistent (one author is spelled Dwyer, Dyer and Dyner; one interviewee Ilmuradova
and Ilmuratova; "Ibid." often follows a short form whose work was last cited twenty notes
earlier), so resolution matches names and titles fuzzily (rapidfuzz) and never by position
alone, except for a bare "Ibid.".

`resolve_citations` turns the footnote texts and bibliography entries of one document into a
`Citations`: every footnote with the sources it cites (or the reason it could not be resolved),
and every distinct source once, matched to its bibliography entry where there is one. Pure
functions and frozen records only: no I/O, no model, fast enough to run at load time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz import fuzz

# --------------------------------------------------------------------------- records

FOOTNOTE_KINDS = ("full", "short", "ibid", "interview", "multiple", "unattributed")
SOURCE_KINDS = ("publication", "news", "official", "interview", "panel")
PERSONAL_KINDS = ("interview", "panel")


@dataclass(frozen=True)
class Source:
    """One cited work (or interview, or panel), however many footnotes cite it and however spelled."""

    source_id: str
    authors: tuple[str, ...]
    title: str | None
    outlet: str | None
    date: str | None
    urls: tuple[str, ...]
    kind: str  # one of SOURCE_KINDS
    bibliography: int | None = None  # ordinal of the matched bibliography entry
    bibliography_text: str | None = None
    description: str | None = None  # what an untitled interview or panel was, as the footnote says it
    bibliography_authors: tuple[str, ...] = ()  # author names as the bibliography spells them
    first_footnote: int = 0


@dataclass(frozen=True)
class SourceRef:
    """A source as one footnote cites it."""

    source_id: str
    page: str | None  # "12", "2 – 4", "iii", "Annex 1"
    via: str  # "full" | "short" | "ibid"
    chain: tuple[int, ...] = ()  # footnotes followed to reach the source, this one first


@dataclass(frozen=True)
class ResolvedFootnote:
    """One footnote and what it cites.

    `kind` says how the note is written: "full" (a reference that stands alone, or the first
    citation of a work), "short" (an author or title pointing back to an earlier full
    reference), "ibid" (a bare "Ibid.": the sources of the note before), "interview" (an
    interview or panel, in full or short), "multiple" (several sources), "unattributed" (no
    refs; `unresolved_reason` says why). Each ref's `via` says how that source was reached.
    """

    number: int
    text: str  # raw footnote text
    kind: str  # one of FOOTNOTE_KINDS
    refs: tuple[SourceRef, ...]
    chain: tuple[int, ...]  # footnotes followed to reach the source(s): 47 → (47, 46, 45, 44)
    unresolved_reason: str | None = None  # non-empty iff refs is empty
    notes: tuple[str, ...] = ()  # what a reader should know: dropped stray text, ibid. with nothing earlier


@dataclass(frozen=True)
class Citations:
    """The resolved footnotes and the distinct sources of one document."""

    footnotes: dict[int, ResolvedFootnote]
    sources: dict[str, Source]

    def sources_of(self, number: int) -> tuple[Source, ...]:
        """The sources footnote `number` cites, in the order it cites them (empty if unknown or unresolved)."""
        note = self.footnotes.get(number)
        return tuple(self.sources[r.source_id] for r in note.refs) if note else ()

    def footnotes_citing(self, source_id: str) -> tuple[int, ...]:
        """Every footnote that cites the source, however (full, short or ibid.)."""
        return tuple(n for n, f in sorted(self.footnotes.items()) if any(r.source_id == source_id for r in f.refs))

    def unresolved(self) -> tuple[ResolvedFootnote, ...]:
        return tuple(f for _, f in sorted(self.footnotes.items()) if not f.refs)

    def search_sources(self, author: str | None = None, text: str | None = None) -> tuple[Source, ...]:
        """Sources whose author and/or title match, best first.

        Fuzzy, because the report spells names several ways: "Ilmuratova" finds Ilmuradova,
        "Ashykbayev" finds Ashikbaev, "Reuters" finds the "Reuters Staff" articles.
        """
        if not (author and author.strip()) and not (text and text.strip()):
            return ()
        scored: list[tuple[float, int, Source]] = []
        for source in self.sources.values():
            score = 100.0
            if author and author.strip():
                score = min(score, author_match_score(author, source))
                if score < AUTHOR_MATCH:
                    continue
            if text and text.strip():
                score = min(score, text_match_score(text, source))
                if score < TEXT_MATCH:
                    continue
            scored.append((score, source.first_footnote, source))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return tuple(s for _, _, s in scored)


# --------------------------------------------------------------------------- thresholds

NAME_MATCH = 80  # surname similarity: Dyer/Dwyer 89, Ilmuratova/Ilmuradova 90, Ashykbayev/Ashikbaev 84
TITLE_MATCH = 85  # a short form's title against a known title (truncations allowed)
SAME_TITLE = 90  # two full references with agreeing authors are the same work
STRICT_TITLE = 92  # the same work when only one side names an author: whole titles must agree
DESCRIPTOR_MATCH = 90  # an unnamed short form ("Panel discussion organized by Atlantic Council")
AUTHOR_MATCH = 80
TEXT_MATCH = 80
PROSE_WORDS = 40  # a footnote line this long with several sentences is body text, not a reference

# --------------------------------------------------------------------------- text patterns

QUOTE_PAIRS = {"‘": "’", "“": "”", "'": "'’", '"': '"”'}
CLOSERS = "’'”\""
URL_RE = re.compile(r"<{1,2}\s*(https?://[^<>\s]*)\s*>{1,2}|(?<![<\w])(https?://[^\s<>]+)")
IBID_RE = re.compile(r"\*?\bibid\b\.?\*?\.?", re.I)
IBID_PAGE_RE = re.compile(r"\bibid\b\.?\*?\s*,\s*(?:pp?\.\s*)?(\d+(?:\s*[–-]\s*\d+)?)", re.I)
# "Page82", "Page. 196", "Pages 2 – 4", "Pages 2 and 9", "Page iii"
PAGES = r"\b[Pp]ages?(?![a-z])\.?\s*(\d+(?:\s*(?:–|-|and)\s*\d+)?|[ivxlc]+\b)"
PAGE_RE = re.compile(PAGES)
PAGE_THEN_MORE_RE = re.compile(rf"({PAGES})\s*[,.]\s+(?=[A-Z‘'\"“*])")  # "Page 2, Anna Dwyer ..."
ANNEX_RE = re.compile(r"\bAnnex\s+(\d+)")
ACCESSED_RE = re.compile(
    r"\b(?:accessed|retrieved|viewing)\b:?(?:\s+on)?\s*:?\s*[^<>;]*?(?:\d{4}|\d{1,2}\.\d{2}\.\s*\d{4})\)?", re.I
)
FROM_RE = re.compile(r"\bfrom:\s*", re.I)
MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE_RES = (
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\s*,?\s+\d{{4}}\b", re.I),
    re.compile(rf"\b{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s*|\s+)\d{{4}}\b", re.I),
    re.compile(rf"\b{MONTH}\s+\d{{4}}\b", re.I),
    re.compile(r"(?<![\w/])(?:19|20)\d{2}\s*(?:and|to|-|–)\s*(?:19|20)\d{2}(?!\w)"),  # "in 2020 and 2021": both years
    re.compile(r"(?<![\w/])(?:19|20)\d{2}(?!\w)"),
)
ITALIC_RE = re.compile(r"\*([^*]+)\*")
INTERVIEW_WITH_RE = re.compile(
    r"^Interviews?\s+(?:with|of)\s+(?P<who>.+?)(?=\s*,|\.(?:\s|$)|\s+(?:was\s+)?conducted\b|$)", re.I
)
INTERVIEW_BY_RE = re.compile(r"^Interviews?\s+conducted\s+by\s+(?P<who>.+?)(?=\s+(?:in|on|with)\b|[,.]|$)", re.I)
POSSESSIVE_RE = re.compile(r"^(?P<who>[^,’']+?)[’']s\s+(?P<rest>.+)$")
PANEL_RE = re.compile(r"\bpanel\b|\bpublic discussion\b|\bpresentation\b", re.I)
INTERVIEW_RE = re.compile(r"\binterviews?\b", re.I)
OFFICIAL_RE = re.compile(
    r"\b(?:United Nations|UN Press|UNICEF|UNCCT|UNGA\d*|UNDHA|Security Council|Ministry of|Department of State"
    r"|Bureau of|Office of Counter|Special Rapporteur|World Bank|S/RES|SC/\d+)"
)
NEWS_RE = re.compile(
    r"Reuters|\bBBC\b|Radio ?Free ?Europe|RFE/RL|Radio Liberty|Caravanserai|Astana Times|New York Times"
    r"|Voice of America|\bVOA\b|France 24|USA Today|Azattyk|Azattyq|Азатт|Ozodlik|Озодлик|CABAR|informburo"
    r"|Новости|Караван|Karavan|Current ?Time|akipress|Радио",
    re.I,
)
NEWS_DOMAINS = (
    "reuters.com", "bbc.com", "rferl.org", "asia-news.com", "astanatimes.com", "nytimes.com", "voanews.com",
    "azattyk.org", "azattyq.org", "ozodlik.org", "cabar.asia", "informburo.kz", "nuz.uz", "akipress.org",
    "usatoday.com", "currenttime.tv", "caravan.kz", "yuz.uz", "news-asia.ru", "france24.com",
)  # fmt: skip
HONORIFICS = {"dr", "dr.", "mr", "mr.", "ms", "ms.", "mrs", "prof", "prof.", "ambassador", "ll.m", "ll.m.", "phd"}
ORG_WORDS = {
    "institute", "institution", "council", "ministry", "department", "bureau", "office", "nations", "united",
    "staff", "press", "news", "bank", "university", "panel", "discussion", "interview", "interviews", "radio",
    "stiftung", "group", "center", "centre", "agency", "report", "foundation", "committee", "government",
    "economist", "event", "media", "times", "official", "workers", "listing", "security", "state",
}  # fmt: skip
CONNECTORS = {"of", "for", "the", "and", "on", "in", "to", "at", "by", "a", "an", "with", "from", "&"}


# --------------------------------------------------------------------------- small text helpers


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Lower-case words only: quotes, apostrophes, italics and punctuation differ between citations of one work."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[’'`´]", "", text)
    return re.sub(r"[\W_]+", " ", text).strip()


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "-".join(re.findall(r"[^\W_]+", folded.replace("’", "").replace("'", "")))


def clean_url(url: str) -> str:
    """A URL as it should be linked: no surrounding <...>/<<...>>, no trailing punctuation from the sentence."""
    url = url.strip().strip("<>").strip()
    return url.rstrip(".,;:)]'\"’”>").rstrip()


def extract_urls(text: str) -> tuple[str, ...]:
    """Every URL in a reference, cleaned, in order, without duplicates."""
    found: list[str] = []
    for m in URL_RE.finditer(text):
        url = clean_url(m.group(1) or m.group(2) or "")
        if url.startswith("http") and url not in found:
            found.append(url)
    return tuple(found)


def url_key(url: str) -> str | None:
    """What two spellings of one URL share; None for a bare home page, which says nothing about the work."""
    key = re.sub(r"^https?://(www\.)?", "", url.casefold()).rstrip("/")
    return key if "/" in key else None


def extract_page(text: str) -> str | None:
    """The locator a reference points to: "Page 12", "Pages 2 – 4", "Ibid., 167", "Annex 1"."""
    for pattern in (PAGE_RE, IBID_PAGE_RE):
        m = pattern.search(text)
        if m:
            return m.group(1).strip()
    m = ANNEX_RE.search(text)
    return f"Annex {m.group(1)}" if m else None


def find_date(text: str) -> str | None:
    """The most specific date written in a reference (a day beats a month beats a bare year)."""
    for pattern in DATE_RES:
        m = pattern.search(text)
        if m:
            return re.sub(r"\s+", " ", m.group(0)).strip()
    return None


def year_of(date: str | None) -> str | None:
    m = re.search(r"(?:19|20)\d{2}", date or "")
    return m.group(0) if m else None


def strip_markup(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "").replace("\\", "")).strip(" ,.;:'\"‘’“”")


def _quote_count(text: str, quote: str) -> int:
    """Quote marks, not apostrophes: a mark between two letters ("You’ll") does not count."""
    return sum(
        1
        for i, ch in enumerate(text)
        if ch == quote and not (0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum())
    )


def _unbalanced(text: str, quote: str) -> bool:
    if quote in "'\"":
        return _quote_count(text, quote) % 2 == 1
    opener, closer = ("‘", "’") if quote in "‘’" else ("“", "”")
    opened, closed = _quote_count(text, opener), _quote_count(text, closer)
    return closed > opened if quote == closer else opened > closed


def tidy_title(text: str) -> str:
    """A title without italics marks and edge punctuation; quotes at its ends go only if unpaired.

    So `Kazakhs Say Rescued IS Children from Syria "Not to Blame"` keeps its inner quotes.
    """
    text = re.sub(r"\s+", " ", text.replace("*", "").replace("\\", "")).strip(" ,.;:")
    changed = True
    while changed and text:
        changed = False
        for quote in "'\"‘’“”":
            if text.endswith(quote) and _unbalanced(text, quote):
                text, changed = text[:-1].rstrip(" ,.;:"), True
            if text.startswith(quote) and _unbalanced(text, quote):
                text, changed = text[1:].lstrip(" ,.;:"), True
    return text


def has_ibid(text: str) -> bool:
    return bool(IBID_RE.search(text))


def remove_locators(text: str) -> str:
    """The reference without ibid., page and access dates: what is left names the work."""
    text = IBID_PAGE_RE.sub(" ", text)
    text = IBID_RE.sub(" ", text)
    text = PAGE_RE.sub(" ", text)
    text = ANNEX_RE.sub(" ", text)
    text = ACCESSED_RE.sub(" ", text)
    return FROM_RE.sub(" ", text)


def remove_urls(text: str) -> str:
    return URL_RE.sub(" ", text)


def is_bare_ibid(text: str) -> bool:
    """"Ibid.", "*ibid*.", "Ibid., 167.": nothing but ibid. and a page, so it means the footnote before."""
    if not has_ibid(text):
        return False
    return not re.sub(r"[\W_]+", "", remove_locators(text))


def looks_like_prose(text: str) -> bool:
    """Body text the PDF export glued to a footnote: long, several sentences, no link."""
    sentences = len(re.findall(r"[.!?][\"”]?\s+[A-Z“\"]", text))
    return len(text.split()) >= PROSE_WORDS and sentences >= 2 and not extract_urls(text)


# --------------------------------------------------------------------------- names


def strip_honorifics(name: str) -> str:
    words = [w for w in name.split() if w.casefold() not in HONORIFICS]
    return " ".join(words)


@lru_cache(maxsize=4096)
def is_person_name(name: str) -> bool:
    """"Yavor Raychev", "S. Starr", "Tucker": capitalised words, none of them an organisation's."""
    words = strip_honorifics(name).split()
    if not 1 <= len(words) <= 4 or words[0] == "The":
        return False
    for word in words:
        bare = word.strip(",’'")
        if bare.endswith(".") and len(bare) > 2 or re.search(r"[:/;()\d]", bare):
            return False  # "Soliev. Syria:" is a sentence, "RFE/RL" an acronym, not a name
        bare = bare.rstrip(".")
        if not bare or not bare[0].isupper():
            return False
        if bare.casefold() in ORG_WORDS:
            return False
    return True


def is_sentence_like(text: str) -> bool:
    """Words of a title rather than a name: several lower-case content words ("US asks countries to ...")."""
    lower = [w for w in re.findall(r"[^\W\d_]+", text) if w[0].islower() and w.casefold() not in CONNECTORS]
    return len(lower) >= 2


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """What identifies an author: a person's surname, an organisation's whole name."""
    words = normalize(strip_honorifics(name)).split()
    if not words:
        return ""
    return words[-1] if is_person_name(name) else " ".join(words)


def name_similarity(a: str, b: str) -> float:
    """0–100: surnames compared letter by letter, organisations word by word ("Reuters" ⊂ "Reuters Staff")."""
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return 0.0
    if " " not in ka and " " not in kb:
        return fuzz.ratio(ka, kb)
    return fuzz.token_set_ratio(ka, kb)


def split_parts(text: str) -> list[str]:
    """Comma- or full-stop-separated parts, not splitting after an initial ("S. Starr", "U.S.")."""
    parts, start = [], 0
    for m in re.finditer(r"[.,]\s+", text):
        before = text[: m.start()]
        if m.group(0).startswith(".") and re.search(r"(?:^|[\s.])[A-Z]$", before):
            continue
        parts.append(text[start : m.start()])
        start = m.end()
    parts.append(text[start:])
    return [p.strip(" ,.;:*") for p in parts if p.strip(" ,.;:*")]


def person_group(part: str) -> tuple[str, ...] | None:
    """"Joana Cook and Gina Vale" → both names; None when any piece is not a person's name."""
    pieces = [p.strip() for p in re.split(r"\s+(?:and|&)\s+", part) if p.strip()]
    pieces = [p for p in pieces if p.casefold() not in {"others", "et al", "et al."}]
    if not pieces or not all(is_person_name(p) for p in pieces):
        return None
    return tuple(strip_honorifics(p) for p in pieces)


def leading_names(parts: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Authors at the head of a reference and the parts after them.

    Persons are read while the parts look like names; an organisation is taken whole as
    the first part (so "Yerzhan Ashikbaev, Atlantic Council" is one person and a descriptor).
    """
    if not parts:
        return (), []
    names: list[str] = []
    i = 0
    while i < len(parts):
        group = person_group(parts[i])
        if group is None:
            break
        names.extend(group)
        i += 1
    if names:
        return tuple(names), parts[i:]
    if is_sentence_like(parts[0]):
        return (), parts
    return (parts[0],), parts[1:]


# --------------------------------------------------------------------------- splitting a footnote


def split_references(text: str) -> tuple[str, ...]:
    """The separate references in one footnote.

    The report separates them with ";" or line breaks, and once (footnote 20) with a comma
    after a page ("Page 2, Anna Dwyer ..."). A line or part that is only a URL belongs to
    the reference before it (footnotes 157, 214, 217).
    """
    pieces: list[str] = []
    for line in text.split("\n"):
        for part in re.split(r";\s*", line):
            pieces.extend(PAGE_THEN_MORE_RE.sub("\\1.\x00", part).split("\x00"))
    merged: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not re.sub(r"[\W_]+", "", piece):
            continue
        only_links = not re.sub(r"[\W_]+", "", remove_urls(FROM_RE.sub(" ", piece)))
        if merged and (only_links or piece.startswith(("<", "http"))):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return tuple(merged)


# --------------------------------------------------------------------------- one reference, parsed


@dataclass(frozen=True)
class TitleSpan:
    start: int
    end: int
    title: str
    quoted: bool  # False when only a closing quote was found (footnote 138)


@dataclass(frozen=True)
class Reference:
    """One reference as written: who, what, where; nothing resolved yet."""

    text: str
    names: tuple[str, ...]  # authors, interviewees or an organisation, as written
    title: str | None
    descriptor: str | None  # other words naming the work: an unquoted title, an event, an affiliation
    outlet: str | None
    date: str | None
    urls: tuple[str, ...]
    page: str | None
    ibid: bool
    kind: str  # the kind of source this would be, were it new
    has_details: bool  # a date, link, outlet or access date: enough to stand on its own

    @property
    def bare_ibid(self) -> bool:
        return self.ibid and not (self.names or self.title or self.descriptor)

    @property
    def personal(self) -> bool:
        """An interview or a panel: personal communication rather than a publication."""
        return self.kind in PERSONAL_KINDS

    @property
    def is_short(self) -> bool:
        """Leans on an earlier footnote: says ibid., or gives no publication details."""
        return self.ibid or not self.has_details


def _valid_closer(text: str, j: int) -> bool:
    return text[j] in CLOSERS and (j + 1 == len(text) or not text[j + 1].isalnum())


def find_title(text: str, allow_unopened: bool = True) -> TitleSpan | None:
    """The quoted title of a reference, tolerating the report's nested and unbalanced quotes.

    An opening quote must not follow a letter (so "Kazakhstan's" is no quote); a closing
    quote must not be followed by one ("You'll", "'Diaspora'II"). When the title itself opens
    with a quote ("'We Walked ...'" inside double quotes), the last closing quote wins.
    """
    for i, ch in enumerate(text):
        if ch not in QUOTE_PAIRS or (i > 0 and text[i - 1].isalnum()) or i + 1 >= len(text) or text[i + 1] == " ":
            continue
        limit = min([len(text)] + [k for k in (text.find("<", i), text.find("http", i)) if k >= 0])
        closers = [j for j in range(i + 2, limit) if _valid_closer(text, j)]
        if not closers:
            continue
        if text[i + 1] in CLOSERS + "‘“":
            j = closers[-1]
        else:
            same = [j for j in closers if text[j] in QUOTE_PAIRS[ch]]
            j = same[0] if same else closers[-1]
        title = tidy_title(text[i + 1 : j])
        if title:
            return TitleSpan(i, j + 1, title, quoted=True)
    if allow_unopened:
        limit = min([len(text)] + [k for k in (text.find("<"), text.find("http")) if k >= 0])
        for j in range(1, limit):
            if text[j] in "’”" and _valid_closer(text, j) and len(text[:j].split()) >= 3:
                return TitleSpan(0, j + 1, tidy_title(text[:j]), quoted=False)
    return None


def find_italic_title(text: str) -> TitleSpan | None:
    """A book title in italics (*Islamic Radicalism in ...*), when nothing is quoted."""
    for m in ITALIC_RE.finditer(text):
        inner = m.group(1).strip()
        if IBID_RE.fullmatch(inner) or text[: m.start()].rstrip().endswith("("):
            continue
        if len(inner.split()) >= 2:
            return TitleSpan(m.start(), m.end(), tidy_title(inner), quoted=True)
    return None


def find_outlet(tail: str) -> str | None:
    """The publisher or outlet after the title: italics, else a parenthesis, else a few words."""
    for pattern in DATE_RES:
        tail = pattern.sub(" ", tail)
    m = ITALIC_RE.search(tail)
    if m and strip_markup(m.group(1)) and not IBID_RE.fullmatch(m.group(1).strip()):
        return strip_markup(m.group(1))
    for m in re.finditer(r"[(\[]([^()\[\]]*)[)\]]", tail):
        inner = strip_markup(m.group(1))
        if re.search(r"[^\W\d_]{2}", inner):
            return inner
    plain = strip_markup(re.sub(r"[()\[\]]", " ", tail))
    if plain and len(plain.split()) <= 6 and plain[0].isupper():
        return plain
    return None


def classify_kind(
    text: str, names: Sequence[str], title: str | None, outlet: str | None, urls: Sequence[str]
) -> str:
    """Interview, panel, official document, news article or (by default) publication."""
    if PANEL_RE.search(text):
        return "panel"
    if INTERVIEW_RE.search(text):
        return "interview"
    if NEWS_RE.search(" ".join([*names, outlet or ""])) or any(d in u for u in urls for d in NEWS_DOMAINS):
        return "news"  # before "official": "The Ministry of Labor Hosts a Seminar ..." is a news item
    if OFFICIAL_RE.search(" ".join([*names, title or ""])):
        return "official"
    return "publication"


def describe(text: str) -> str | None:
    """Words that describe an event or an affiliation, without dates, brackets or stray quotes."""
    for pattern in DATE_RES:
        text = pattern.sub(" ", text)
    text = strip_markup(re.sub(r"[()\[\]]", " ", text))
    text = _DANGLING_RE.sub("", text).strip(" ,.;:")  # "was conducted by the Bulan Institute on [8th June 2021]"
    words = [w for w in re.findall(r"[^\W\d_]+", text) if w.casefold() not in CONNECTORS]
    return text if words else None


# The verb before a description, and the preposition its date was taken from, are not part of it.
_DANGLING_RE = re.compile(r"^\s*(?:was|were|is|are)\s+|\s+(?:on|in|at|of)\s*[,.;:]?\s*$", re.I)


@dataclass(frozen=True)
class _Reading:
    """What the words of a reference say, before dates and outlets are read from the tail."""

    names: tuple[str, ...] = ()
    title: str | None = None
    quoted: bool = False  # the title was marked as one (quotes or italics), not guessed from position
    descriptor: str | None = None
    tail: str = ""  # text after the title, where outlet and date are


def read_interview(work: str, match: re.Match[str]) -> _Reading:
    """"Interview with Gulnaz Razdykova, 'Interview Conducted by ...' (18 April 2021)": who, and what."""
    who = strip_markup(match.group("who"))
    names = person_group(who) or ()
    span = find_title(work, allow_unopened=False)
    rest = work
    if span:
        rest = work[: span.start] + " " + work[span.end :]
    rest = rest.split(match.group("who"), 1)[-1] if match.group("who") in rest else ""
    descriptor = describe(" ".join(w for w in (None if names else who, rest) if w))
    if span:
        return _Reading(names, span.title, True, descriptor, work[span.end :])
    return _Reading(names, None, False, descriptor, "")


def _title_from_leftover(work: str, first_leftover: str, span: TitleSpan) -> tuple[str, str]:
    """An unquoted title that runs into a quoted phrase (footnote 156): the title ends at the last closing quote."""
    start = work.find(first_leftover)
    closers = [j for j in range(span.end - 1, len(work)) if _valid_closer(work, j)]
    end = closers[-1] if closers else span.end - 1
    return tidy_title(work[start:end]), work[end + 1 :]


def read_citation(work: str) -> _Reading:
    """Authors, title and descriptor of an ordinary reference, quoted title or not."""
    span = find_title(work) or find_italic_title(work)
    if span:
        head_parts = [p for p in split_parts(work[: span.start]) if not re.search(r"\d", p)]
        if not head_parts:
            return _Reading((), span.title, span.quoted, None, work[span.end :])
        if person_group(head_parts[0]) is None:  # an organisation: the whole head is its name
            return _Reading((", ".join(head_parts),), span.title, span.quoted, None, work[span.end :])
        names, leftover = leading_names(head_parts)
        if leftover and is_sentence_like(" ".join(leftover)):  # footnote 156: title runs into a quote
            title, tail = _title_from_leftover(work, leftover[0], span)
            return _Reading(names, title, True, None, tail)
        return _Reading(names, span.title, span.quoted, describe(", ".join(leftover)), work[span.end :])
    possessive = POSSESSIVE_RE.match(work)
    if possessive and is_person_name(possessive.group("who").strip()):  # "Yerzhan Ashikbaev’s presentation"
        names, parts = (possessive.group("who").strip(),), split_parts(possessive.group("rest"))
    else:
        parts = split_parts(work)
        if parts and INTERVIEW_RE.search(parts[0]):  # "State Official Interview.": no one is named
            names = ()
        else:
            names, parts = leading_names(parts)
    parts = [p for p in parts if not (find_date(p) and len(p.split()) <= 4)]
    if not parts:
        return _Reading(names)
    return _Reading(names, tidy_title(parts[0]), False, describe(", ".join(parts)), ", ".join(parts[1:]))


def parse_reference(text: str) -> Reference:
    """Read one reference: names, title, descriptor, outlet, date, links, page, ibid."""
    text = text.strip()
    urls = extract_urls(text)
    work = re.sub(r"\s+", " ", remove_locators(remove_urls(text))).strip()
    plain = work.lstrip("‘'\"“*").strip()
    interview = INTERVIEW_WITH_RE.match(plain) or INTERVIEW_BY_RE.match(plain)
    reading = read_interview(work, interview) if interview else read_citation(work)
    undated = remove_locators(remove_urls(text))
    if reading.title:
        undated = undated.replace(reading.title, " ")
    date = find_date(undated)
    outlet = find_outlet(reading.tail) if reading.tail else None
    has_details = bool(urls or date or outlet or ACCESSED_RE.search(text))
    names = tuple(n for n in (strip_markup(n) for n in reading.names) if n)
    kind = classify_kind(text, names, reading.title, outlet, urls)
    # Words in no quotes are a title only in a reference that stands alone and is not a talk
    # ("US asks countries to ..., France 24, 04 February 2019"); otherwise they describe.
    title = reading.title if (reading.quoted or (has_details and kind not in PERSONAL_KINDS)) else None
    descriptor = reading.descriptor or (reading.title if not title else None)
    return Reference(
        text=text,
        names=names,
        title=title,
        descriptor=descriptor,
        outlet=outlet,
        date=date,
        urls=urls,
        page=extract_page(text),
        ibid=has_ibid(text),
        kind=kind,
        has_details=has_details,
    )


# --------------------------------------------------------------------------- similarity


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


@lru_cache(maxsize=16384)
def title_similarity(cited: str, known: str) -> float:
    """0–100: how well a cited title names a known one; a cited title may be a truncation of it.

    Numbers must agree: "Country Reports on Terrorism 2019" is not the 2017 report, and
    "Uzbekistan Repatriates 93 Women" is not "... 98 People".
    """
    c, k = normalize(cited), normalize(known)
    if not c or not k or not _numbers(c) <= _numbers(k):
        return 0.0
    scores = [fuzz.ratio(c, k), fuzz.token_sort_ratio(c, k)]
    if len(c.split()) >= 3 and len(c) <= len(k):
        scores += [fuzz.partial_ratio(c, k), fuzz.token_set_ratio(c, k)]
    return max(scores)


def same_title_similarity(a: str, b: str) -> float:
    """Either title may be the truncated one."""
    return max(title_similarity(a, b), title_similarity(b, a))


@lru_cache(maxsize=16384)
def strict_title_similarity(a: str, b: str) -> float:
    """Whole titles compared, for when no author can confirm the match."""
    na, nb = normalize(a), normalize(b)
    if not na or not nb or _numbers(na) != _numbers(nb):
        return 0.0
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb))


def descriptor_similarity(descriptor: str, texts: Iterable[str]) -> float:
    """0–100: whether the words of a descriptor ("Atlantic Council") occur in what is known of a source."""
    d = normalize(descriptor)
    if not d:
        return 0.0
    return max((max(fuzz.partial_ratio(d, t), fuzz.token_set_ratio(d, t)) for t in texts if t), default=0.0)


def names_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """The first name of `a` is one of the names of `b`, allowing for spelling."""
    return bool(a and b) and max(name_similarity(a[0], n) for n in b) >= NAME_MATCH


def author_match_score(query: str, source: Source) -> float:
    """0–100: how well `query` names an author of the source, as the footnotes or the bibliography spell it."""
    names = source.authors + source.bibliography_authors
    words = normalize(query).split()
    best = 0.0
    for name in names:
        best = max(best, name_similarity(query, name))
        if len(words) == 1:
            best = max([best] + [fuzz.ratio(words[0], w) for w in normalize(name).split() if len(w) >= 3])
    return best


def text_match_score(query: str, source: Source) -> float:
    """0–100: how well `query` matches the source's title, outlet or description."""
    q = normalize(query)
    fields = [normalize(f) for f in (source.title, source.outlet, source.description) if f]
    if not q or not fields:
        return 0.0
    return max(
        max(fuzz.partial_ratio(q, f) if len(q) <= len(f) else fuzz.ratio(q, f), fuzz.token_set_ratio(q, f))
        for f in fields
    )


# --------------------------------------------------------------------------- ibid


@dataclass(frozen=True)
class Resolution:
    """What one reference resolved to, or why it did not."""

    refs: tuple[SourceRef, ...] = ()
    reason: str | None = None
    note: str | None = None


def resolve_ibid(number: int, page: str | None, earlier: Mapping[int, ResolvedFootnote]) -> Resolution:
    """A bare "Ibid." cites what the footnote just before cites, with its own page if it gives one.

    Followed recursively because the footnote before was itself resolved first: 47 → 46 → 45 → 44.
    Without a page, "Ibid." conventionally repeats the page of the note before.
    """
    previous = earlier.get(number - 1)
    if previous is None:
        return Resolution(reason="ibid. with no preceding footnote")
    if not previous.refs:
        return Resolution(reason=f"ibid. of footnote {number - 1}, which is unresolved")
    refs = tuple(
        SourceRef(r.source_id, page or r.page, "ibid", (number,) + (r.chain or (number - 1,))) for r in previous.refs
    )
    return Resolution(refs)


# --------------------------------------------------------------------------- bibliography


@dataclass(frozen=True)
class BibliographyRecord:
    """A bibliography entry read like a reference: "Raychev Y, 'Operations ...' [2020] ..."."""

    ordinal: int
    text: str
    names: tuple[str, ...]  # as written: "Raychev Y", "Bulan Institute"
    keys: tuple[str, ...]  # surnames ("raychev") or organisation names
    personal: bool  # authors are people (written "Surname Initials")
    title: str | None
    urls: tuple[str, ...]
    kind: str


INITIALS_RE = re.compile(r"^[A-Z]{1,3}\.?$")


def bibliography_name_key(name: str) -> tuple[str, bool]:
    """("raychev", True) for "Raychev Y"; the whole name, False, for an organisation."""
    words = name.split()
    surname = list(words)
    while len(surname) > 1 and INITIALS_RE.match(surname[-1]):
        surname.pop()
    return normalize(" ".join(surname)), len(surname) < len(words)


def parse_bibliography_entry(ordinal: int, text: str) -> BibliographyRecord:
    """Authors and title of one bibliography entry (entries put the surname first)."""
    urls = extract_urls(text)
    work = re.sub(r"\s+", " ", remove_urls(text)).strip()
    span = find_title(work, allow_unopened=False)
    head = work[: span.start] if span else work
    pieces = [p.strip(" .,") for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", head) if p.strip(" .,")]
    names: list[str] = []
    keys: list[str] = []
    personal = False
    for k, piece in enumerate(pieces):
        if piece.casefold() in {"others", "et al"}:
            continue
        key, is_person = bibliography_name_key(piece)
        if k == 0 or is_person:
            names.append(piece)
            keys.append(key)
            personal = personal or is_person
        if not is_person:
            break
    title = span.title if span else None
    if title is None and names:
        rest = re.sub(r"^[\s,]*(?:and others|et al\.?)?[\s,]*", "", work.split(names[-1], 1)[-1])
        title = tidy_title(re.split(r"[(\[]", rest, maxsplit=1)[0]) or None
    kind = classify_kind(text, (), None, None, ())
    return BibliographyRecord(ordinal, text, tuple(names), tuple(keys), personal, title, urls, kind)


def _key_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return fuzz.ratio(a, b) if " " not in a and " " not in b else fuzz.token_set_ratio(a, b)


def bibliography_score(source: Source, record: BibliographyRecord) -> float:
    """How surely `record` lists `source`: 0 when not at all.

    A shared link settles it; otherwise authors must agree and titles be similar, and
    where one side names no author the whole titles must agree. Interviews and panels with
    the same person match by kind, their titles being generic ("Interview Conducted by ...").
    """
    record_urls = {url_key(u) for u in record.urls} - {None}
    if any(url_key(u) in record_urls for u in source.urls if url_key(u)):
        return 300.0
    source_keys = [name_key(a) for a in source.authors]
    agree = max((_key_similarity(a, b) for a in source_keys for b in record.keys), default=0.0) >= NAME_MATCH
    personal_source = bool(source.authors) and is_person_name(source.authors[0])
    if personal_source and record.personal and not agree:
        return 0.0
    similarity = same_title_similarity(source.title, record.title) if source.title and record.title else 0.0
    if agree:
        if similarity >= TITLE_MATCH:
            return 200.0 + similarity
        if source.kind in PERSONAL_KINDS and record.kind == source.kind:
            return 150.0
        return 0.0
    if not (source.title and record.title):
        return 0.0
    strict = strict_title_similarity(source.title, record.title)
    if strict >= STRICT_TITLE:
        return strict
    if not source.authors and not record.personal and source.kind in PERSONAL_KINDS and record.kind == source.kind:
        # an anonymous interview, listed under the institute that held it, in other words
        loose = fuzz.token_set_ratio(normalize(source.title), normalize(record.title))
        return loose if loose >= TITLE_MATCH else 0.0
    return 0.0


def match_bibliography(source: Source, records: Sequence[BibliographyRecord]) -> BibliographyRecord | None:
    """The bibliography entry that lists `source`, if any (not every cited work is in the bibliography)."""
    best, best_score = None, 0.0
    for record in records:
        score = bibliography_score(source, record)
        if score > best_score:
            best, best_score = record, score
    return best


# --------------------------------------------------------------------------- source identity


def source_slug(
    authors: Sequence[str], title: str | None, date: str | None, kind: str, description: str | None = None
) -> str:
    """A stable id from first author, year and first title words: "raychev-2020-operations-for-repatriation".

    An untitled interview or panel is named by its kind and description instead
    ("interview-bulan-institute-kazakh-official").
    """
    who = ""
    if authors:
        key = name_key(authors[0])
        words = [w for w in key.split() if w not in CONNECTORS]
        who = slugify(" ".join(words[:2]) if " " in key else key)
    if title:
        words = slugify(title).split("-")
    else:
        described = [w for w in slugify(description or "").split("-") if w and w not in CONNECTORS]
        words = [kind] + described[: 0 if who else 3]
    year = year_of(date) or ""
    if who:
        parts = [who, year, "-".join(words[:3])]
    else:
        parts = ["-".join(words[:4]), year]
    return "-".join(p for p in parts if p) or kind


@dataclass
class _Draft:
    """A source while footnotes are still being read; filled in by each full reference to it."""

    index: int
    names: list[str]
    title: str | None
    description: str | None
    outlet: str | None
    date: str | None
    urls: list[str]
    kind: str
    first_footnote: int
    last_cited: int
    last_full: int
    titles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # normalized words of every reference to it

    @property
    def provisional_id(self) -> str:
        return f"#{self.index}"

    @classmethod
    def from_reference(cls, index: int, ref: Reference, number: int) -> "_Draft":
        draft = cls(index, [], None, None, None, None, [], ref.kind, number, number, number)
        draft.absorb(ref, number)
        return draft

    def absorb(self, ref: Reference, number: int) -> None:
        """Take what a new full reference adds: a missing author, date or outlet, another link."""
        self.names = self.names or list(ref.names)
        self.title = self.title or ref.title
        self.description = self.description or ref.descriptor
        self.outlet = self.outlet or ref.outlet
        self.date = self.date or ref.date
        self.urls.extend(u for u in ref.urls if u not in self.urls)
        if ref.title and ref.title not in self.titles:
            self.titles.append(ref.title)
        self.texts.append(normalize(" ".join(f for f in (ref.title, ref.descriptor, ref.outlet) if f)))
        self.last_cited = self.last_full = number

    def same_work(self, ref: Reference) -> bool:
        """Whether a full reference cites this source again (report spellings differ; links do not)."""
        keys = {url_key(u) for u in self.urls} - {None}
        if any(url_key(u) in keys for u in ref.urls if url_key(u)):
            return True
        both_named = bool(ref.names and self.names)
        if both_named and not names_agree(ref.names, self.names):
            return False
        if ref.title and self.titles:
            if both_named:
                return max(same_title_similarity(ref.title, t) for t in self.titles) >= SAME_TITLE
            return max(strict_title_similarity(ref.title, t) for t in self.titles) >= STRICT_TITLE
        if ref.personal and ref.kind == self.kind:
            if both_named:
                return True
            if not ref.names and not self.names and ref.descriptor and self.description:
                return strict_title_similarity(ref.descriptor, self.description) >= STRICT_TITLE
        return False

    def match_key(self, ref: Reference) -> tuple[float, bool, bool, int, int] | None:
        """How well a short form names this source, as a sortable key; None if it does not.

        Ranked by: share of the cited names that are this source's authors, the first name
        being its first author, an interview citing an interview, how well the title or other
        words match, and finally recency (the most recently cited work of that author).
        """
        fraction, first = 0.0, False
        if ref.names:
            if self.names:
                sims = [max(name_similarity(n, a) for a in self.names) for n in ref.names]
                if sims[0] < NAME_MATCH:
                    return None
                fraction = sum(s >= NAME_MATCH for s in sims) / len(sims)
                first = name_similarity(ref.names[0], self.names[0]) >= NAME_MATCH
            elif not (ref.title and self.titles):
                return None  # an author named here is not this authorless source's, unless the title says so
        if ref.title and self.titles:
            similarity = max(title_similarity(ref.title, t) for t in self.titles)
            if similarity < (STRICT_TITLE if ref.names and not self.names else TITLE_MATCH):
                return None
        elif ref.title or ref.descriptor:
            if not ref.names and ref.title:
                return None
            similarity = descriptor_similarity(ref.title or ref.descriptor or "", self.texts)
            if not ref.names and similarity < DESCRIPTOR_MATCH:
                return None
        elif ref.names:
            similarity = 0.0
        else:
            return None
        personal = ref.personal and self.kind in PERSONAL_KINDS
        if ref.personal and not ref.names and not personal:
            return None
        return (fraction, first, personal, round(similarity / 5), self.last_cited)


# --------------------------------------------------------------------------- resolution


class _Resolver:
    """Reads the footnotes in order, keeping the sources seen so far."""

    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.done: dict[int, ResolvedFootnote] = {}
        self.unknown_authors: dict[int, tuple[str, ...]] = {}  # footnote → names no earlier footnote cites

    def draft(self, provisional_id: str) -> _Draft:
        return self.drafts[int(provisional_id[1:])]

    def new_draft(self, ref: Reference, number: int) -> _Draft:
        draft = _Draft.from_reference(len(self.drafts), ref, number)
        self.drafts.append(draft)
        return draft

    def reference(self, number: int, ref: Reference) -> Resolution:
        if ref.bare_ibid:
            resolution = resolve_ibid(number, ref.page, self.done)
            for r in resolution.refs:
                self.draft(r.source_id).last_cited = number
            return resolution
        if not ref.is_short:
            found = next((d for d in self.drafts if d.same_work(ref)), None)
            if found:
                found.absorb(ref, number)
            draft = found or self.new_draft(ref, number)
            return Resolution((SourceRef(draft.provisional_id, ref.page, "full", (number,)),))
        scored = [(key, d) for d in self.drafts if (key := d.match_key(ref)) is not None]
        if scored:
            draft = max(scored, key=lambda item: item[0])[1]
            chain = (number, draft.last_full)
            draft.last_cited = number
            return Resolution((SourceRef(draft.provisional_id, ref.page, "short", chain),))
        if ref.title or (ref.personal and (ref.names or ref.descriptor)):
            draft = self.new_draft(ref, number)
            note = None
            if ref.ibid:
                note = "says ibid. but no earlier footnote cites this work: read as its first citation"
            elif ref.names or not ref.personal:
                note = "short form with no earlier full reference: read as the first citation"
            return Resolution((SourceRef(draft.provisional_id, ref.page, "full", (number,)),), note=note)
        if ref.names:
            self.unknown_authors.setdefault(number, ref.names)
            return Resolution(reason=f"no earlier reference to {ref.names[0]}")
        return Resolution(reason="no identifiable source")

    def footnote(self, number: int, text: str) -> ResolvedFootnote:
        notes: list[str] = []
        refs_read: list[Reference] = []
        for piece in split_references(text):
            if looks_like_prose(piece):
                notes.append(f"ignored body text run into the footnote: {piece[:50]!r}…")
            else:
                refs_read.append(parse_reference(piece))
        resolutions = [self.reference(number, r) for r in refs_read]
        refs: list[SourceRef] = []
        for ref, resolution in zip(refs_read, resolutions):
            for found in resolution.refs:
                if all(found.source_id != r.source_id for r in refs):  # one source cited twice in a note counts once
                    refs.append(found)
            if resolution.note:
                notes.append(resolution.note)
            if resolution.reason and len(refs_read) > 1:
                notes.append(f"one reference not resolved ({resolution.reason}): {ref.text!r}")
        reasons = [r.reason for r in resolutions if r.reason]
        reason = None if refs else ("; ".join(reasons) or "no reference text")
        resolved = ResolvedFootnote(
            number=number,
            text=text,
            kind=self.footnote_kind(refs_read, refs),
            refs=tuple(refs),
            chain=common_prefix([r.chain for r in refs]) or (number,),
            unresolved_reason=reason,
            notes=tuple(notes),
        )
        self.done[number] = resolved
        return resolved

    def footnote_kind(self, read: Sequence[Reference], refs: Sequence[SourceRef]) -> str:
        """How the note cites: by its form, not by what it resolved to (the via of each ref says that)."""
        if not refs:
            return "unattributed"
        if all(r.bare_ibid for r in read):
            return "ibid"
        if len(refs) > 1:
            return "multiple"
        if self.draft(refs[0].source_id).kind in PERSONAL_KINDS:
            return "interview"
        return refs[0].via

    def later_mention(self, names: Sequence[str], after: int) -> int | None:
        """The first later footnote citing this author in full: said in the reason, never assumed."""
        if not names:
            return None
        for draft in self.drafts:
            if draft.first_footnote > after and names_agree(names, draft.names):
                return draft.first_footnote
        return None

    def finish(self, bibliography: Sequence[str]) -> Citations:
        records = [parse_bibliography_entry(k, text) for k, text in enumerate(bibliography)]
        ids: dict[str, str] = {}
        sources: dict[str, Source] = {}
        for draft in self.drafts:
            slug = source_slug(draft.names, draft.title, draft.date, draft.kind, draft.description)
            source_id, n = slug, 1
            while source_id in sources:
                n += 1
                source_id = f"{slug}-{n}"
            source = Source(
                source_id=source_id,
                authors=tuple(draft.names),
                title=draft.title,
                outlet=draft.outlet,
                date=draft.date,
                urls=tuple(draft.urls),
                kind=draft.kind,
                description=draft.description,
                first_footnote=draft.first_footnote,
            )
            record = match_bibliography(source, records)
            if record:
                source = replace(
                    source,
                    bibliography=record.ordinal,
                    bibliography_text=record.text,
                    bibliography_authors=record.names,
                )
            ids[draft.provisional_id] = source_id
            sources[source_id] = source
        footnotes = {n: self.final_footnote(f, ids) for n, f in self.done.items()}
        return Citations(footnotes=footnotes, sources=sources)

    def final_footnote(self, note: ResolvedFootnote, ids: Mapping[str, str]) -> ResolvedFootnote:
        """The note with final source ids, and, if its author is only cited later, where."""
        refs = tuple(replace(r, source_id=ids[r.source_id]) for r in note.refs)
        reason = note.unresolved_reason
        later = self.later_mention(self.unknown_authors.get(note.number, ()), note.number)
        if reason and later:
            reason += f" (the first full reference to this author comes later, in footnote {later})"
        return replace(note, refs=refs, unresolved_reason=reason)


def common_prefix(chains: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """The footnotes every ref of a note was reached through (all of the chain when there is one ref)."""
    if not chains:
        return ()
    prefix = chains[0]
    for chain in chains[1:]:
        k = 0
        while k < min(len(prefix), len(chain)) and prefix[k] == chain[k]:
            k += 1
        prefix = prefix[:k]
    return prefix


def resolve_citations(footnotes: Mapping[int, str], bibliography: Sequence[str]) -> Citations:
    """Resolve every footnote of one document to its sources, in footnote order.

    `footnotes` maps footnote number to its raw text; `bibliography` is the document's
    bibliography entries in order (their index is the `Source.bibliography` ordinal).
    """
    resolver = _Resolver()
    for number in sorted(footnotes):
        resolver.footnote(number, footnotes[number])
    return resolver.finish(bibliography)
