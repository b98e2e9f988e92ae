"""Gold question sets: loading, the dev/test split, and validation against the report.

A gold line is `{"id", "question", "answers", "evidence", "footnotes", "type"}`. Evidence quotes
are verbatim body text (whitespace collapsed, no marker digits), so relevance can be judged by
containment in a passage, independently of how the report is chunked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.models import Document
from rag.parse import unescape

TYPES = ("factoid", "numeric", "table", "citation", "multi_part", "paraphrase", "unanswerable")
# The question sets written for tuning only, beside the gold set in eval/ (never test, never held out).
TUNING_SETS = ("calibration.jsonl", "calibration_offtopic.jsonl", "calibration_nearmiss.jsonl", "dev_extra.jsonl", "tuning_sections.jsonl", "tuning_more.jsonl", "tuning_short.jsonl")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    footnotes: tuple[int, ...]
    type: str

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


class GoldError(ValueError):
    pass


def normalize(text: str) -> str:
    """The form quotes and passages are compared in: no emphasis stars, table bars or Markdown escapes, single spaces."""
    return re.sub(r"\s+", " ", unescape(text).replace("*", "").replace(" | ", " ").replace("\t", " ")).strip()


def load_gold(path: Path) -> list[GoldQuestion]:
    questions, seen = [], set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            q = GoldQuestion(
                id=str(raw["id"]),
                question=str(raw["question"]),
                answers=tuple(map(str, raw["answers"])),
                evidence=tuple(map(str, raw["evidence"])),
                footnotes=tuple(int(n) for n in raw["footnotes"]),
                type=str(raw["type"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise GoldError(f"{path}:{number}: not a gold line ({err.__class__.__name__}: {err})") from None
        if q.type not in TYPES:
            raise GoldError(f"{path}:{number}: type {q.type!r} is not one of {', '.join(TYPES)}")
        if q.id in seen:
            raise GoldError(f"{path}:{number}: duplicate id {q.id}")
        seen.add(q.id)
        questions.append(q)
    return questions


def split_file(gold_path: Path) -> Path:
    return gold_path.with_name(gold_path.stem + "_split.json")


def select_split(questions: list[GoldQuestion], gold_path: Path, split: str) -> list[GoldQuestion]:
    """`all`, or `dev`/`test` from the split file beside the gold file (`gold.jsonl` → `gold_split.json`)."""
    if split == "all":
        return questions
    path = split_file(gold_path)
    if not path.is_file():
        raise GoldError(f"no split file {path} for --split {split}; use --split all")
    ids = set(json.loads(path.read_text(encoding="utf-8")).get(split, ()))
    if not ids:
        raise GoldError(f"{path} has no {split!r} split")
    return [q for q in questions if q.id in ids]


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Paragraph:
    """A paragraph's normalized text and, for each sentence, its span in it and its footnotes."""

    text: str
    sentences: tuple[tuple[int, int, tuple[int, ...]], ...]

    @classmethod
    def of(cls, sentences) -> "_Paragraph":
        parts, spans, at = [], [], 0
        for s in sentences:
            t = normalize(s.clean)
            spans.append((at, at + len(t), s.footnotes))
            parts.append(t)
            at += len(t) + 1
        return cls(" ".join(parts), tuple(spans))

    def footnotes_of(self, quote: str) -> set[int] | None:
        """Footnotes of the sentences a quote overlaps, or None if the quote is not in this paragraph."""
        at = self.text.find(quote)
        if at < 0:
            return None
        end = at + len(quote)
        return {n for a, b, notes in self.sentences if a < end and at < b for n in notes}


def attached_footnotes(quote: str, paragraphs: Iterable[_Paragraph]) -> set[int] | None:
    found = [f for f in (p.footnotes_of(normalize(quote)) for p in paragraphs) if f is not None]
    return set().union(*found) if found else None


def validate_gold(questions: Iterable[GoldQuestion], documents: Mapping[str, Document], source_names: Mapping[int, str] | None = None) -> list[str]:
    """Every problem found, as `id: message`; an empty list means the set agrees with the report.

    `source_names` maps a footnote number to the names of the source(s) it resolves to, so that a
    citation question whose footnote says only "Ibid." can still be checked.
    """
    paragraphs = [_Paragraph.of(p.sentences) for d in documents.values() for p in d.paragraphs]
    table_lines = [normalize(" ".join(row)) for d in documents.values() for t in d.tables for row in (t.header, *t.rows)]
    footnotes = {n: f.text for d in documents.values() for n, f in d.footnotes.items()}
    problems: list[str] = []
    for q in questions:
        problems += [f"{q.id}: {m}" for m in _check(q, paragraphs, table_lines, footnotes, source_names or {})]
    return problems


def _check(q, paragraphs, table_lines, footnotes, source_names) -> list[str]:
    if not q.question.strip():
        return ["empty question"]
    if not q.answerable:
        return [] if not (q.answers or q.evidence or q.footnotes) else ["unanswerable question with answers, evidence or footnotes"]
    if not q.answers or not q.evidence:
        return ["answerable question needs answers and evidence"]
    problems = []
    attached: set[int] = set()
    for quote in map(normalize, q.evidence):
        notes = attached_footnotes(quote, paragraphs)
        in_table = q.type in ("table", "multi_part") and any(quote in line for line in table_lines)
        if notes is None and not in_table:
            problems.append(f"evidence not found verbatim in the report: {quote[:60]!r}")
        attached |= notes or set()
    missing = set(q.footnotes) - attached
    if missing:
        problems.append(f"footnote(s) {sorted(missing)} not attached to the evidence sentence(s)")
    haystack = " ".join(map(normalize, q.evidence)).casefold()
    if q.type == "citation":
        haystack += " " + " ".join(normalize(footnotes.get(n, "")) + " " + source_names.get(n, "") for n in q.footnotes).casefold()
    if not any(a.casefold() in haystack for a in q.answers):
        problems.append(f"no answer {list(q.answers)} occurs in the evidence" + (" or the cited footnotes" if q.type == "citation" else ""))
    return problems
