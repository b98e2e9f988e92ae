"""Parse a report exported from PDF to text into a `Document`.

The export keeps the PDF's page layout: superscript digits glued to words are footnote
markers, lines that start with them are footnote definitions, and footnote blocks sit where
pages broke, often cutting a body paragraph in two. This module undoes that layout: it
rejoins split paragraphs, attaches run-on footnote lines to their footnote, recognises the
table of contents, headings, tables and the bibliography, and splits body text into sentences
with their source offsets. Everything here is pure except `parse_file`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rag.models import BibEntry, Document, Footnote, Paragraph, Sentence, Table

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TO_ASCII = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
MARKER_RE = re.compile(f"[{SUPERSCRIPT_DIGITS}]+")
FOOTNOTE_DEF_RE = re.compile(f"^([{SUPERSCRIPT_DIGITS}]+)[ \t]*")
TOC_HEADER_RE = re.compile(r"^(table of contents?|contents)$", re.I)
BIBLIOGRAPHY_RE = re.compile(r"^(bibliography|references|works cited|sources)$", re.I)
TABLE_CAPTION_RE = re.compile(r"^Table\s+(\d+)[.:]\s*(.*)$")
LETTERED_HEADING_RE = re.compile(r"^[a-z]\.\s+\S")
MARKDOWN_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+)$")
EMPHASIS_RE = re.compile(r"\*([^*\n]+)\*")
SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "upon", "with", "who"}
MAX_HEADING_CHARS = 100


class CorpusError(ValueError):
    """A corpus file that cannot be ingested; the message names the file and, where known, the line."""

    def __init__(self, path: str, message: str, line: int | None = None):
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


# --------------------------------------------------------------------------- text helpers


def marker_number(run: str) -> int:
    return int(run.translate(_TO_ASCII))


def strip_emphasis(text: str) -> str:
    return EMPHASIS_RE.sub(r"\1", text)


_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|<>~])")


def unescape(text: str) -> str:
    """The export's Markdown escapes undone ("\\$1million" is "$1million"): readers quote the text, not the markup."""
    return _ESCAPE_RE.sub(r"\1", text)


def normalize_title(text: str) -> str:
    """Compare headings across the TOC and the body, which disagree on apostrophes and spacing."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", strip_emphasis(text)).strip().casefold()


def clean_text(raw: str) -> str:
    """Text as embedded and keyword-indexed: markers and emphasis stars gone, spaces collapsed."""
    text = MARKER_RE.sub(lambda m: " " if _glued_between_words(raw, m) else "", raw)
    return re.sub(r"\s+", " ", unescape(strip_emphasis(text))).strip()


def display_text(raw: str, numbers_for: dict[int, tuple[int, ...]] | None = None) -> str:
    """Text as displayed: each marker kept where it stood, as `[n]`."""

    def render(m: re.Match[str]) -> str:
        nums = (numbers_for or {}).get(m.start()) or (marker_number(m.group()),)
        return "".join(f"[{n}]" for n in nums)

    return re.sub(r"\s+", " ", unescape(strip_emphasis(MARKER_RE.sub(render, raw)))).strip()


def _glued_between_words(raw: str, m: re.Match[str]) -> bool:
    before = raw[m.start() - 1] if m.start() else " "
    after = raw[m.end()] if m.end() < len(raw) else " "
    return before.isalnum() and after.isalnum()


def ends_sentence(text: str) -> bool:
    """Whether a paragraph ends where a sentence ends (a split paragraph does not)."""
    core = MARKER_RE.sub("", text).rstrip().rstrip("\"'”’)]*").rstrip()
    return core.endswith((".", "!", "?", ":"))


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = {"mr", "ms", "mrs", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "u.s", "u.n", "jr", "sr", "prof", "gen", "col", "lt", "fig", "al", "approx", "ll.m"}
_BOUNDARY_RE = re.compile(
    f"[.!?](?:[\"'”’)\\]]|\\*)*[{SUPERSCRIPT_DIGITS}]*(?:[\"'”’)\\]])*\\s+(?=[\"'“‘(\\[A-Z0-9{SUPERSCRIPT_DIGITS}])"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split on sentence ends, keeping a footnote marker with the sentence it follows."""
    spans, start = [], 0
    for m in _BOUNDARY_RE.finditer(text):
        if _is_abbreviation(text, m.start()):
            continue
        end = m.end()
        while end > m.start() and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[:dot])
    if not word:
        return False
    token = word.group(1)
    if len(token) == 1 and token.isupper():  # an initial: "Vladimir I. Voronkov"
        return True
    return token.casefold() in _ABBREVIATIONS


# --------------------------------------------------------------------------- front-matter credits

# The last word of a credit's role ("Head", "Senior researchers"); a line ending in one labels the names after it.
_ROLE_WORDS = {
    "head", "director", "lead", "leader", "author", "editor", "researcher", "assistant", "coordinator",
    "consultant", "adviser", "advisor", "reviewer", "manager", "designer", "translator", "team",
}
_NAME_RE = re.compile(r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,3}")


def credit_kind(line: str) -> str:
    """'group' ("RESEARCH TEAM"), 'role' ("Senior researchers"), 'name' ("Javier Ojeda Escudero"), or 'other'."""
    words = line.strip().split()
    if not words or len(words) > 4:
        return "other"
    if line.isupper() and words[-1].casefold().rstrip("s") in _ROLE_WORDS:
        return "group"
    if words[-1].casefold().rstrip("s") in _ROLE_WORDS and all(w.islower() for w in words[1:]):
        return "role"
    return "name" if _NAME_RE.fullmatch(line.strip()) else "other"


def credit_separator(previous: str, line: str) -> str:
    """How a credits page reads as a sentence: "RESEARCH TEAM — Head: Cholpon Orozobekova; Senior
    researchers: Cholpon Orozobekova, Sarah Wolfe; ... Jennifer Torner. Published June 2021; ..."."""
    before, after = credit_kind(previous), credit_kind(line)
    if before == "group":
        return " — "
    if before == "role":
        return ": "
    if before == "name":
        return ", " if after == "name" else "; " if after == "role" else ". "
    return "; "


# --------------------------------------------------------------------------- raw paragraphs


@dataclass
class RawParagraph:
    """A paragraph of the file as laid out, with a map from its text back to file offsets."""

    text: str
    line: int
    segments: list[tuple[int, int, int]] = field(default_factory=list)  # (text_start, file_start, length)

    @classmethod
    def from_line(cls, text: str, line: int, file_start: int) -> "RawParagraph":
        return cls(text, line, [(0, file_start, len(text))])

    def extend(self, other: "RawParagraph", sep: str = " ") -> None:
        offset = len(self.text) + len(sep)
        self.text = f"{self.text}{sep}{other.text}"
        self.segments += [(offset + t, f, n) for t, f, n in other.segments]

    def file_offset(self, i: int) -> int:
        for text_start, file_start, length in reversed(self.segments):
            if i >= text_start:
                return file_start + min(i - text_start, length)
        return self.segments[0][1]


def split_paragraphs(text: str) -> list[RawParagraph]:
    """Blank lines separate paragraphs; a line starting with a marker always starts a new one."""
    paragraphs: list[RawParagraph] = []
    current: RawParagraph | None = None
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        body = line.rstrip("\r")
        stripped = body.strip(" ")
        lead = len(body) - len(body.lstrip(" "))
        if not stripped.strip():
            current = None
        else:
            piece = RawParagraph.from_line(stripped, number, offset + lead)
            if current is None or FOOTNOTE_DEF_RE.match(stripped) or "\t" in stripped:
                current = piece
                paragraphs.append(current)
            else:
                current.extend(piece)
        offset += len(line) + 1
    return paragraphs


# --------------------------------------------------------------------------- structure


@dataclass
class _Heading:
    title: str
    level: int
    anchor: bool  # from the TOC or lettered: untitled headings nest one level below it


def is_heading_like(text: str) -> bool:
    """A short title-case line with no sentence punctuation and no footnote marker."""
    if len(text) > MAX_HEADING_CHARS or MARKER_RE.search(text) or "\t" in text:
        return False
    if LETTERED_HEADING_RE.match(text):
        return not text.rstrip().endswith((".", ","))
    if text.rstrip().endswith((".", ",", ";", ":", "!", "?")) or "," in text:
        return False
    if not text[0].isupper():
        return False
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w.lower() not in SMALL_WORDS]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.75


def looks_like_reference(text: str) -> bool:
    """A footnote's run-on line: a URL, an Ibid., or "Author, 'Title'" at its start."""
    return bool(re.search(r"https?://|^<|\bIbid\b", text, re.I) or re.match(r"^[^.]{0,100}?,\s*['‘“\"]", text))


class _Parser:
    def __init__(self, doc_id: str, path: str, paragraphs: list[RawParagraph]):
        self.doc_id, self.path, self.raw = doc_id, path, paragraphs
        self.warnings: list[str] = []
        self.footnotes: dict[int, Footnote] = {}
        self.footnote_parts: dict[int, list[RawParagraph]] = {}
        self.body: list[tuple[tuple[str, ...], RawParagraph, str]] = []  # (path, paragraph, kind)
        self.tables: list[Table] = []
        self.bibliography: list[RawParagraph] = []
        self.toc: list[tuple[str, int]] = []
        self.title = ""
        self.stack: list[_Heading] = []
        self.heading_since_body = True

    # -- driver
    def run(self) -> Document:
        i = self._title_and_toc()
        i = self._front_matter(i)
        self._body(i)
        return self._document()

    def _warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.path}:{line}: {message}")

    # -- title block, table of contents, front matter
    def _title_and_toc(self) -> int:
        toc_at = next((i for i, p in enumerate(self.raw) if TOC_HEADER_RE.match(p.text.strip())), None)
        if toc_at is None:
            first = self.raw[0]
            if is_heading_like(first.text) or not ends_sentence(first.text):
                self.title = clean_text(first.text)
                return 1
            self.title = self.doc_id
            return 0
        block = self.raw[:toc_at]
        self.title = max((clean_text(p.text) for p in block), key=len, default=self.doc_id)
        if block:
            self._add_front_matter(("Title page",), block)
        i = toc_at + 1
        while i < len(self.raw) and "\t" in self.raw[i].text:
            title, _, page = self.raw[i].text.partition("\t")
            self.toc.append((title.strip(), 1 if page.strip() else 2))
            i += 1
        return i

    def _front_matter(self, i: int) -> int:
        """Text between the TOC and the first section named in it: the institute's colophon."""
        if not self.toc:
            return i
        firsts = {normalize_title(t) for t, level in self.toc if level == 1}
        end = next((j for j in range(i, len(self.raw)) if normalize_title(self.raw[j].text) in firsts), i)
        block = self.raw[i:end]
        if block:
            title = clean_text(block[0].text) if is_heading_like(block[0].text) else "Front matter"
            self._add_front_matter((title,), block[1:] if title != "Front matter" else block)
        return end

    def _add_front_matter(self, path: tuple[str, ...], block: list[RawParagraph]) -> None:
        """Runs of short lines (names, roles, credits) become one paragraph, punctuated as a list reads."""
        run: RawParagraph | None = None
        previous = ""
        for p in block:
            short = len(p.text) < 80 and not ends_sentence(p.text)
            if short and run is not None:
                run.extend(p, credit_separator(previous, p.text))
            else:
                run = RawParagraph(p.text, p.line, list(p.segments)) if short else None
                self.body.append((path, run or p, "front_matter"))
            previous = p.text

    # -- body
    def _body(self, i: int) -> None:
        in_bibliography = False
        while i < len(self.raw):
            p = self.raw[i]
            nxt = self.raw[i + 1] if i + 1 < len(self.raw) else None
            if FOOTNOTE_DEF_RE.match(p.text):
                self._footnote(p)
            elif self._is_footnote_continuation(i, nxt):
                self.footnote_parts[max(self.footnote_parts)].append(p)
            elif TABLE_CAPTION_RE.match(p.text) and not in_bibliography:
                i = self._table(i)
                continue
            elif (level := self._heading_level(p.text)) is not None:
                self._set_heading(clean_text(p.text), level, p.text)
                in_bibliography = bool(BIBLIOGRAPHY_RE.match(clean_text(p.text)))
            elif in_bibliography:
                self._bibliography_line(p)
            elif "\t" in p.text:
                self._warn(p.line, "tab-separated line outside a table: read as text")
                self._body_paragraph(RawParagraph(p.text.replace("\t", " "), p.line, p.segments))
            else:
                self._body_paragraph(p)
            i += 1

    def _is_footnote_continuation(self, i: int, nxt: RawParagraph | None) -> bool:
        """A marker-free line inside a footnote block that runs on from the footnote above it.

        Body text resumes after a block; it is told apart because body paragraphs carry the
        markers of the footnotes that follow them, and run-on lines read like references.
        """
        if not self.footnote_parts or i == 0:
            return False
        prev = self.raw[i - 1]
        if not (FOOTNOTE_DEF_RE.match(prev.text) or self._belongs_to_footnote(prev)):
            return False
        p = self.raw[i]
        if MARKER_RE.search(p.text) or self._heading_level(p.text) is not None and not looks_like_reference(p.text):
            return False
        sandwiched = nxt is not None and bool(FOOTNOTE_DEF_RE.match(nxt.text))
        return sandwiched or looks_like_reference(p.text)

    def _belongs_to_footnote(self, p: RawParagraph) -> bool:
        return any(p is part for part in self.footnote_parts[max(self.footnote_parts)])

    def _footnote(self, p: RawParagraph) -> None:
        number = marker_number(FOOTNOTE_DEF_RE.match(p.text).group(1))  # type: ignore[union-attr]
        if number in self.footnote_parts:
            self._warn(p.line, f"footnote {number} defined again: the later definition is skipped")
            self.footnote_parts[max(self.footnote_parts)].append(p)  # keep text attached to something
            return
        if self.footnote_parts and number != max(self.footnote_parts) + 1:
            self._warn(p.line, f"footnote {number} follows footnote {max(self.footnote_parts)}")
        self.footnote_parts[number] = [p]

    def _heading_level(self, text: str) -> int | None:
        md = MARKDOWN_HEADING_RE.match(text)
        if md:
            return len(md.group(1))
        key = normalize_title(text)
        for title, level in self.toc:
            if normalize_title(title) == key:
                return level
        if BIBLIOGRAPHY_RE.match(clean_text(text)):
            return 1
        if not is_heading_like(text):
            return None
        if LETTERED_HEADING_RE.match(text):
            return 2
        anchors = [h.level for h in self.stack if h.anchor]
        return (anchors[-1] if anchors else 0) + 1

    def _set_heading(self, title: str, level: int, raw: str) -> None:
        md = MARKDOWN_HEADING_RE.match(raw)
        title = clean_text(md.group(2)) if md else title
        anchor = bool(md) or LETTERED_HEADING_RE.match(raw) is not None or any(
            normalize_title(t) == normalize_title(title) for t, _ in self.toc
        )
        self.stack = [h for h in self.stack if h.level < level] + [_Heading(title, level, anchor)]
        self.heading_since_body = True

    @property
    def heading_path(self) -> tuple[str, ...]:
        return tuple(h.title for h in self.stack)

    def _body_paragraph(self, p: RawParagraph) -> None:
        if self.body and not self.heading_since_body:
            path, last, kind = self.body[-1]
            if kind == "text" and (not ends_sentence(last.text) or p.text[:1].islower()):
                last.extend(p)  # a paragraph cut in two by a page break or a footnote block
                return
        self.body.append((self.heading_path, RawParagraph(p.text, p.line, list(p.segments)), "text"))
        self.heading_since_body = False

    def _table(self, i: int) -> int:
        caption_p = self.raw[i]
        m = TABLE_CAPTION_RE.match(caption_p.text)
        caption = clean_text(f"Table {m.group(1)}. {m.group(2)}")  # type: ignore[union-attr]
        j = i + 1
        rows: list[tuple[str, ...]] = []
        while j < len(self.raw) and "\t" in self.raw[j].text:
            rows.append(tuple(cell.strip() for cell in self.raw[j].text.split("\t")))
            j += 1
        if len(rows) < 2:
            self._warn(caption_p.line, f"'{caption}' has no tab-separated rows: read as text")
            self._body_paragraph(caption_p)
            return i + 1
        width = len(rows[0])
        for row, k in zip(rows, range(i + 1, j)):
            if len(row) != width:
                self._warn(self.raw[k].line, f"table row has {len(row)} cells, header has {width}")
        last = self.raw[j - 1]
        self.tables.append(
            Table(
                doc=self.doc_id,
                caption=caption,
                header=rows[0],
                rows=tuple(rows[1:]),
                heading_path=self.heading_path,
                start=caption_p.segments[0][1],
                end=last.segments[-1][1] + last.segments[-1][2],
                line=caption_p.line,
            )
        )
        self.heading_since_body = True
        return j

    def _bibliography_line(self, p: RawParagraph) -> None:
        """Entries are one paragraph each, unless a line runs on from an entry cut mid-title."""
        if self.bibliography:
            last = self.bibliography[-1]
            runs_on = p.text[:1].islower() or p.text.startswith(("<", "http")) or (last.text[-1:].isalpha() and not self._starts_entry(p.text, last.text))
            if runs_on:
                last.extend(p)
                return
        self.bibliography.append(RawParagraph(p.text, p.line, list(p.segments)))

    @staticmethod
    def _starts_entry(text: str, previous: str) -> bool:
        """ "Surname X, ..." that keeps the list's alphabetical order: a new entry, not a run-on line."""
        return bool(re.match(r"^[^\W\d_][^,]{0,60},\s", text)) and text[:1].casefold() >= previous[:1].casefold()

    # -- assembly
    def _document(self) -> Document:
        for number, parts in self.footnote_parts.items():
            first = parts[0]
            text = unescape("\n".join([FOOTNOTE_DEF_RE.sub("", first.text, count=1).strip()] + [q.text for q in parts[1:]]))
            if not text.strip():
                self._warn(first.line, f"footnote {number} is empty")
            last = parts[-1]
            self.footnotes[number] = Footnote(
                doc=self.doc_id,
                number=number,
                text=text,
                line=first.line,
                start=first.segments[0][1],
                end=last.segments[-1][1] + last.segments[-1][2],
            )
        paragraphs = tuple(
            Paragraph(
                doc=self.doc_id,
                ordinal=k,
                heading_path=path,
                sentences=self._sentences(p),
                line=p.line,
                kind=kind,
            )
            for k, (path, p, kind) in enumerate(self.body)
        )
        self._check_markers(paragraphs)
        return Document(
            doc_id=self.doc_id,
            path=self.path,
            title=self.title,
            toc=tuple(self.toc),
            paragraphs=paragraphs,
            tables=tuple(self.tables),
            footnotes=dict(self.footnotes),
            bibliography=tuple(
                BibEntry(self.doc_id, k, clean_text(p.text), p.line) for k, p in enumerate(self.bibliography)
            ),
            warnings=tuple(self.warnings),
        )

    def _sentences(self, p: RawParagraph) -> tuple[Sentence, ...]:
        out = []
        for start, end in sentence_spans(p.text):
            raw = p.text[start:end]
            numbers = {m.start(): self._marker_numbers(m.group()) for m in MARKER_RE.finditer(raw)}
            out.append(
                Sentence(
                    clean=clean_text(raw),
                    display=display_text(raw, numbers),
                    footnotes=tuple(n for nums in numbers.values() for n in nums),
                    start=p.file_offset(start),
                    end=p.file_offset(end),
                )
            )
        return tuple(out)

    def _marker_numbers(self, run: str) -> tuple[int, ...]:
        """A run of superscript digits is one marker, or several in a row ("¹⁸²¹⁸³") when only that fits."""
        digits = run.translate(_TO_ASCII)
        if int(digits) in self.footnote_parts or not self.footnote_parts:
            return (int(digits),)
        for cut in range(1, len(digits)):
            head, tail = int(digits[:cut]), digits[cut:]
            if head in self.footnote_parts and not tail.startswith("0") and int(tail) in self.footnote_parts:
                return (head, int(tail))
        return (int(digits),)

    def _check_markers(self, paragraphs: tuple[Paragraph, ...]) -> None:
        seen: dict[int, int] = {}
        for p in paragraphs:
            for n in p.footnotes:
                seen[n] = seen.get(n, 0) + 1
                if n not in self.footnotes:
                    self._warn(p.line, f"marker {n} has no footnote definition")
        for n, fn in self.footnotes.items():
            if n not in seen:
                self._warn(fn.line, f"footnote {n} is never cited in the body")


def parse_text(text: str, doc_id: str, path: str = "<text>") -> Document:
    paragraphs = split_paragraphs(text)
    if not paragraphs:
        raise CorpusError(path, "the file has no text")
    return _Parser(doc_id, path, paragraphs).run()


def parse_file(path: Path) -> Document:
    """Read and parse one corpus file; its id is the file name without extension."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise CorpusError(str(path), "binary data (NUL byte), not a text file", data[: data.index(b"\x00")].count(b"\n") + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorpusError(str(path), f"not valid UTF-8 ({err.reason} at byte {err.start})", line) from None
    return parse_text(text.lstrip("\ufeff"), doc_id=path.stem, path=str(path))


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every visible regular file in the corpus folder is a document, in name order."""
    return sorted(p for p in corpus_dir.iterdir() if p.is_file() and not p.name.startswith("."))
