"""Training data as the model takes it: tokenized splits, padded batches, length-bucketed order."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from model.data import Example, read_split
from model.news import news_part
from model.text import normalize_text
from model.training_config import TrainConfig

# The label of an example whose data set does not carry that task; its loss is masked out.
IGNORE = -100


def load_tokenizer(path: Path, max_len: int) -> Tokenizer:
    """The fast tokenizer from `tokenizer.json`, truncating only (padding is per batch)."""
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels of a data set, ready for batching, with the normalised texts
    (a teacher with another tokenizer encodes those itself)."""

    texts: list[str]
    ids: list[list[int]]
    topic: np.ndarray
    sentiment: np.ndarray


def encode(examples: Sequence[Example], tok: Tokenizer) -> Encoded:
    texts = [normalize_text(ex.text) for ex in examples]
    ids = [e.ids for e in tok.encode_batch(texts)]
    topic = np.array([IGNORE if ex.topic is None else ex.topic for ex in examples])
    sentiment = np.array([IGNORE if ex.sentiment is None else ex.sentiment for ex in examples])
    return Encoded(texts=texts, ids=ids, topic=topic, sentiment=sentiment)


@dataclass(frozen=True)
class Splits:
    """What a run trains on and is validated on; `news` is None without a news file."""

    train_examples: list[Example]
    train: Encoded
    valid: Encoded
    news: Encoded | None


def load_splits(cfg: TrainConfig) -> Splits:
    """The tweet training sets plus the news training part (repeated `news_repeat` times),
    the tweet validation sets and the news development set, tokenized."""
    tok = load_tokenizer(cfg.base_model / "tokenizer.json", cfg.max_len)
    train_ex, valid_ex = read_split(cfg.data_dir, "train"), read_split(cfg.data_dir, "valid")
    news_dev = None
    if cfg.news_file is not None:
        train_ex += news_part(cfg.news_file, "train") * cfg.news_repeat
        news_dev = encode(news_part(cfg.news_file, "dev"), tok)
    return Splits(train_ex, encode(train_ex, tok), encode(valid_ex, tok), news_dev)


def pad_batch(ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad with id 0 to the longest sequence of the batch."""
    width = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[row, : len(x)] = 1
    return input_ids, mask


def train_batches(data: Encoded, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths: sort within chunks of 50 batches to cut padding."""
    order = list(range(len(data.ids)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(data.ids[i]))
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches
