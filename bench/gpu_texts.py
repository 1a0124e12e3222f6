"""Texts for the GPU check and their encoding: the validation sets where they are at hand, else a
seeded synthetic feed; tokenised exactly as the runtime scorer does (normalise, truncate, pad)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from model.data import read_task
from model.text import normalize_text
from stream.synthetic import FeedPlan, synthetic_feed

DATA_FOLDER = "twitter-financial-news"
SYNTHETIC_COUNT = 6000
SYNTHETIC_SEED = 5


@dataclass(frozen=True)
class Encoder:
    """Token ids as `model.scorer.Scorer` makes them: normalised text, truncated to max_len."""

    tokenizer: Tokenizer

    @classmethod
    def from_file(cls, path: Path, max_len: int) -> Encoder:
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_len)
        return cls(tokenizer)

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch([normalize_text(t) for t in texts])]

    @staticmethod
    def pad(ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded ids and mask, as wide as the longest row."""
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, row in enumerate(ids):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        return input_ids, mask


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    topics: list[int | None]
    sentiments: list[int | None]
    source: str

    @property
    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.texts).encode()).hexdigest()[:16]

    def describe(self) -> dict[str, object]:
        return {"source": self.source, "count": len(self.texts), "digest": self.digest}

    def accuracy(self, logits: tuple[np.ndarray, np.ndarray]) -> dict[str, float] | str:
        """Argmax accuracy against the labels each text carries (validation sets only)."""
        result: dict[str, float] = {}
        for name, labels, scores in (
            ("topic", self.topics, logits[0]),
            ("sentiment", self.sentiments, logits[1]),
        ):
            rows = [i for i, label in enumerate(labels) if label is not None]
            if rows:
                predicted = scores[rows].argmax(1)
                result[name] = round(
                    float((predicted == np.array([labels[i] for i in rows])).mean()), 4
                )
        return result or "no labels (synthetic texts)"


def data_folder(given: Path | None, repo: Path) -> Path | None:
    """--data, or the validation sets beside or inside the repository copy."""
    candidates = [given] if given else [repo.parent / "shared" / "data", repo / "shared" / "data"]
    for folder in candidates:
        for path in (folder, folder / DATA_FOLDER):
            if (path / "topic_valid.csv").is_file() and (path / "sentiment_valid.csv").is_file():
                return path
    return None


def load_texts(given: Path | None, repo: Path, limit: int) -> Corpus:
    """Both validation sets (topic first), or seeded synthetic headlines if they are absent."""
    folder = data_folder(given, repo)
    if folder is None:
        plan = FeedPlan(datetime(2026, 1, 5, tzinfo=UTC), 1.0, SYNTHETIC_COUNT, seed=SYNTHETIC_SEED)
        texts = [str(item["headline"]) for item in synthetic_feed(plan)]
        texts = texts[:limit] if limit else texts
        none: list[int | None] = [None] * len(texts)
        where = given or "../shared/data or ./shared/data"
        source = f"SYNTHETIC headlines (seed {SYNTHETIC_SEED}): no validation sets in {where}"
        return Corpus(texts, none, list(none), source)
    examples = read_task(folder, "topic", "valid") + read_task(folder, "sentiment", "valid")
    if limit:
        # Half from each set, so a small run still sees both.
        topic = [e for e in examples if e.topic is not None][: limit - limit // 2]
        examples = topic + [e for e in examples if e.sentiment is not None][: limit // 2]
    return Corpus(
        [e.text for e in examples],
        [e.topic for e in examples],
        [e.sentiment for e in examples],
        f"validation sets in {folder}",
    )
