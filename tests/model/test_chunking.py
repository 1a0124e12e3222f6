"""Long bodies are split on sentences into chunks that fit the window."""

from __future__ import annotations

from model.chunking import chunk_text, split_sentences


def words(s: str) -> int:
    return len(s.split())


def test_split_sentences() -> None:
    text = "Profit rose 5%. Shares gained! Will it last? $AAPL fell.\n\nNew paragraph here"
    assert split_sentences(text) == [
        "Profit rose 5%.",
        "Shares gained!",
        "Will it last?",
        "$AAPL fell.",
        "New paragraph here",
    ]


def test_chunks_respect_budget_and_keep_order() -> None:
    text = " ".join(f"Sentence number {i} has six words." for i in range(10))
    chunks = chunk_text(text, words, max_tokens=13, max_chunks=100)
    assert all(words(c) <= 13 for c in chunks)
    assert " ".join(chunks) == text
    assert len(chunks) == 5


def test_long_sentence_is_cut_and_chunks_are_capped() -> None:
    text = " ".join(["word"] * 100) + "."
    chunks = chunk_text(text, words, max_tokens=10, max_chunks=3)
    assert len(chunks) == 3
    assert all(words(c) <= 10 for c in chunks)
