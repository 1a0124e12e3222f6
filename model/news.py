"""FinEntity news snippets as sentence-level sentiment examples, in a fixed train / dev split.

A snippet whose annotated entities all share one polarity is news of that polarity; snippets that
mix polarities need the entity as input and are left out. The split is by a keyed hash of the
text within each label, so it does not depend on the file's order and equal texts share a part.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from model.data import Example
from model.exceptions import DataError
from model.labels import NEGATIVE, NEUTRAL, POSITIVE

NewsPart = Literal["train", "dev"]

# Share of each label's snippets held out as the development set, and the key of the split:
# changing either changes which snippets the reported news figures come from.
DEV_SHARE = 0.4
SPLIT_KEY = "finsent-news-dev/1"

_POLARITY = {"Negative": NEGATIVE, "Neutral": NEUTRAL, "Positive": POSITIVE}


def read_news(path: Path) -> list[Example]:
    """The single-polarity snippets of FinEntity.json as sentiment examples, in file order."""
    if not path.is_file():
        raise DataError(
            f"{path} not found: pass --news the FinEntity.json file (FinEntity, Tang et al. 2023, "
            "ODC-BY 1.0)"
        )
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not JSON ({e})") from None
    if not isinstance(rows, list):
        raise DataError(f"{path}: expected a list of {{content, annotations}} objects")
    examples = []
    for number, row in enumerate(rows):
        label = _single_polarity(row, f"{path}[{number}]")
        if label is not None:
            examples.append(Example(text=row["content"], sentiment=label))
    return examples


def _single_polarity(row: object, where: str) -> int | None:
    if not isinstance(row, dict) or not isinstance(row.get("content"), str):
        raise DataError(f"{where}: expected an object with a 'content' string")
    labels = {str(a.get("label")) for a in row.get("annotations") or [] if isinstance(a, dict)}
    unknown = labels - _POLARITY.keys()
    if unknown:
        raise DataError(f"{where}: unknown entity label(s) {sorted(unknown)}")
    return _POLARITY[labels.pop()] if len(labels) == 1 else None


def news_part(path: Path, part: NewsPart) -> list[Example]:
    """The `train` or `dev` part: per label, the DEV_SHARE of snippets lowest in hash order."""
    by_label: dict[int | None, list[Example]] = {}
    for ex in read_news(path):
        by_label.setdefault(ex.sentiment, []).append(ex)
    chosen = []
    for examples in by_label.values():
        ranked = sorted(examples, key=lambda ex: (_rank(ex.text), ex.text))
        cut = _dev_count(ranked)
        chosen += ranked[:cut] if part == "dev" else ranked[cut:]
    return chosen


def _rank(text: str) -> str:
    return hashlib.sha256(f"{SPLIT_KEY}\n{text}".encode()).hexdigest()


def _dev_count(ranked: list[Example]) -> int:
    """How many of one label's ranked snippets go to dev; equal texts never straddle the cut."""
    cut = round(len(ranked) * DEV_SHARE)
    while 0 < cut < len(ranked) and ranked[cut].text == ranked[cut - 1].text:
        cut += 1
    return cut
