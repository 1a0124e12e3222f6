"""Splits a long body into sentence-aligned chunks that fit the encoder's window."""

from __future__ import annotations

import re
from collections.abc import Callable

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-Z0-9$])|\n{2,}")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` (a plain regex: good enough for news prose, no model needed)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def chunk_text(
    text: str, count_tokens: Callable[[str], int], max_tokens: int, max_chunks: int
) -> list[str]:
    """Greedily pack whole sentences into chunks of at most `max_tokens` tokens.

    A sentence longer than the window is cut into word windows. At most `max_chunks` chunks are
    returned, taken from the start: the lead of a news body carries its gist.
    """
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        for piece in _fit(sentence, count_tokens, max_tokens):
            n = count_tokens(piece)
            if current and used + n > max_tokens:
                chunks.append(" ".join(current))
                current, used = [], 0
            current.append(piece)
            used += n
        if len(chunks) >= max_chunks:
            return chunks[:max_chunks]
    if current:
        chunks.append(" ".join(current))
    return chunks[:max_chunks]


def _fit(sentence: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    if count_tokens(sentence) <= max_tokens:
        return [sentence]
    words = sentence.split()
    # Words average well under two word pieces in news English; halve the window to be safe.
    step = max(1, max_tokens // 2)
    return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
