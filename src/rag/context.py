"""Context packing: the passages that fit a token budget, as one string ready for a language model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol


class PassageLike(Protocol):
    heading_path: list[str]
    text: str


def passage_block(p: PassageLike) -> str:
    """One passage as the model should see it: where it comes from, then the text with its [n] markers."""
    return f"[{' > '.join(p.heading_path)}]\n{p.text}"


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
