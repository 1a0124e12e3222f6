"""Loads the Twitter Financial News topic and sentiment CSVs into labelled examples."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from model.exceptions import DataError
from model.labels import SENTIMENTS, TOPICS, sentiment_from_data

logger = logging.getLogger(__name__)

Split = Literal["train", "valid"]
Task = Literal["topic", "sentiment"]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; a label is None where the example's data set does not carry it."""

    text: str
    topic: int | None = None
    sentiment: int | None = None


def data_file(data_dir: Path, task: Task, split: Split) -> Path:
    """The path of one CSV file in the data directory (`topic_train.csv`, ...)."""
    return data_dir / f"{task}_{split}.csv"


def read_task(data_dir: Path, task: Task, split: Split) -> list[Example]:
    """Read one task's split; sentiment ids are mapped to the model's order (see labels.py)."""
    path = data_file(data_dir, task, split)
    if not path.is_file():
        raise DataError(
            f"{path} not found: pass --data the folder holding topic_train.csv, topic_valid.csv, "
            "sentiment_train.csv and sentiment_valid.csv (Twitter Financial News, MIT licence)"
        )
    examples = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"text", "label"} <= set(reader.fieldnames):
            raise DataError(f"{path}: expected a header with columns text,label")
        for line, row in enumerate(reader, start=2):
            examples.append(_example(row["text"], row["label"], task, f"{path}:{line}"))
    logger.info("read %d examples from %s", len(examples), path)
    return examples


def _example(text: str, raw_label: str, task: Task, where: str) -> Example:
    try:
        label = int(raw_label)
    except ValueError:
        raise DataError(f"{where}: label {raw_label!r} is not an integer") from None
    if task == "topic":
        if not 0 <= label < len(TOPICS):
            raise DataError(f"{where}: topic label {label} outside 0..{len(TOPICS) - 1}")
        return Example(text=text, topic=label)
    try:
        return Example(text=text, sentiment=sentiment_from_data(label))
    except ValueError as e:
        raise DataError(f"{where}: {e}") from None


def read_split(data_dir: Path, split: Split) -> list[Example]:
    """Both tasks' examples of one split, topic first."""
    return read_task(data_dir, "topic", split) + read_task(data_dir, "sentiment", split)


def class_counts(examples: Sequence[Example], task: Task) -> list[int]:
    """How many examples carry each label of `task`."""
    counts = [0] * (len(TOPICS) if task == "topic" else len(SENTIMENTS))
    for ex in examples:
        label = ex.topic if task == "topic" else ex.sentiment
        if label is not None:
            counts[label] += 1
    return counts
