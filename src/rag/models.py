"""The records that flow between pipeline stages: document → chunks → hits.

They are plain frozen dataclasses so that every stage can be tested without the model, and
so that the index can store them as JSON and read them back unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sentence:
    """One sentence of body text, in the three forms the pipeline needs.

    `clean` is what is embedded and keyword-indexed (no marker digits), `display` keeps each
    footnote marker as `[n]` where it stood, `start`/`end` are character offsets in the source file.
    """

    clean: str
    display: str
    footnotes: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    doc: str
    ordinal: int
    heading_path: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    line: int
    kind: str = "text"  # "text" | "front_matter"

    @property
    def clean(self) -> str:
        return " ".join(s.clean for s in self.sentences)

    @property
    def display(self) -> str:
        return " ".join(s.display for s in self.sentences)

    @property
    def footnotes(self) -> tuple[int, ...]:
        return tuple(n for s in self.sentences for n in s.footnotes)


@dataclass(frozen=True)
class Table:
    doc: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heading_path: tuple[str, ...]
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Footnote:
    doc: str
    number: int
    text: str  # continuation paragraphs joined with "\n"
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class BibEntry:
    doc: str
    ordinal: int
    text: str
    line: int


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str
    title: str
    toc: tuple[tuple[str, int], ...]
    paragraphs: tuple[Paragraph, ...]
    tables: tuple[Table, ...]
    footnotes: dict[int, Footnote]
    bibliography: tuple[BibEntry, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: whole sentences from one section, or a table (whole or one line of it)."""

    chunk_id: str
    doc: str
    ordinal: int
    heading_path: tuple[str, ...]
    text: str  # display text, markers as [n]
    clean: str  # embedded and keyword-indexed text
    start: int
    end: int
    footnotes: tuple[int, ...]
    n_tokens: int
    kind: str = "text"  # "text" | "front_matter" (title page, credits) | "table" | "table_row" | "table_cell"
    sentences: tuple[Sentence, ...] = field(default=())
    cell: tuple[str, ...] = ()  # a table_cell's (table caption, column header, row label) as printed, for look-ups (lookup.py)

    def embedding_text(self, text: str | None = None) -> str:
        """Heading path first: it tells a short passage which country and programme it is about.

        With `text` (one of the chunk's sentences), the same context for that sentence alone.
        """
        body = self.clean if text is None else text
        return " > ".join(self.heading_path) + "\n" + body if self.heading_path else body

    def embedding_units(self) -> list[tuple[int, str]]:
        """What is embedded for this chunk: the whole (sentence -1), then each sentence when there are several.

        Matching single sentences finds a fact that a long passage about something else hides.
        """
        units = [(-1, self.embedding_text())]
        if len(self.sentences) > 1:
            units += [(i, self.embedding_text(s.clean)) for i, s in enumerate(self.sentences)]
        return units

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Chunk":
        data = dict(data)
        data["heading_path"] = tuple(data["heading_path"])
        data["footnotes"] = tuple(data["footnotes"])
        data["cell"] = tuple(data.get("cell", ()))
        data["sentences"] = tuple(
            Sentence(**{**s, "footnotes": tuple(s["footnotes"])}) for s in data.get("sentences", ())
        )
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int
