"""Context packing: the passages that fit a token budget, as one string ready for a language model.

Each passage comes with the sources its [n] markers stand for, resolved (an "Ibid." becomes the
work it repeats), so a model reading the context can say who a claim rests on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol


class SourceLike(Protocol):
    authors: list[str]
    title: str | None
    outlet: str | None
    date: str | None
    page: str | None


class CitationLike(Protocol):
    number: int
    text: str
    sources: list[SourceLike]


class PassageLike(Protocol):
    heading_path: list[str]
    text: str
    citations: list[CitationLike]


def describe_source(s: SourceLike) -> str:
    """Authors, title, outlet, date, page: short enough for a budget, no URLs."""
    parts = [", ".join(s.authors), f"“{s.title}”" if s.title else "", s.outlet or "", s.date or "", f"p. {s.page}" if s.page else ""]
    return ", ".join(p for p in parts if p)


def citation_line(c: CitationLike) -> str:
    described = "; ".join(d for d in map(describe_source, c.sources) if d)
    return f"[{c.number}] {described or c.text}"


def passage_block(p: PassageLike) -> str:
    """One passage as the model should see it: where it comes from, its text with [n] markers, then what each [n] cites."""
    seen: set[int] = set()
    notes = [citation_line(c) for c in p.citations if not (c.number in seen or seen.add(c.number))]
    return "\n".join([f"[{' > '.join(p.heading_path)}]", p.text, *notes])


def pack(passages: Sequence[PassageLike], max_tokens: int, count: Callable[[str], int]) -> tuple[int, str]:
    """How many passages, taken in rank order, fit in `max_tokens`, and their context string.

    Whole passages only: a passage cut mid-way could lose the sentence its citation belongs to.
    """
    blocks: list[str] = []
    for p in passages:
        candidate = "\n\n".join([*blocks, passage_block(p)])
        if count(candidate) > max_tokens:
            break
        blocks.append(passage_block(p))
    return len(blocks), "\n\n".join(blocks)
