"""The FinEntity news split: single-polarity labels, a fixed seeded dev part, clear errors."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from model.exceptions import DataError
from model.labels import NEGATIVE, NEUTRAL, POSITIVE
from model.news import DEV_SHARE, news_part, read_news


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows))
    return path


def _snippets(n: int, seed: int = 0) -> list[dict[str, object]]:
    """`n` invented snippets per polarity, plus one that mixes polarities."""
    rows: list[dict[str, object]] = []
    for label in ("Positive", "Negative", "Neutral"):
        for i in range(n):
            text = f"Company {label[:3]}{i} reported item {i} of the quarter."
            rows.append({"content": text, "annotations": [{"value": "Co", "label": label}]})
    rows.append(
        {
            "content": "One lender rose while another fell.",
            "annotations": [{"label": "Positive"}, {"label": "Negative"}],
        }
    )
    random.Random(seed).shuffle(rows)
    return rows


def test_single_polarity_snippets_are_labelled_and_mixed_ones_left_out(tmp_path: Path) -> None:
    examples = read_news(_write(tmp_path / "n.json", _snippets(3)))
    assert Counter(ex.sentiment for ex in examples) == {POSITIVE: 3, NEGATIVE: 3, NEUTRAL: 3}
    assert all(ex.topic is None for ex in examples)


def test_parts_are_disjoint_stratified_and_independent_of_file_order(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.json", _snippets(50, seed=1))
    second = _write(tmp_path / "b.json", _snippets(50, seed=2))
    dev, train = news_part(first, "dev"), news_part(first, "train")
    assert {ex.text for ex in dev}.isdisjoint(ex.text for ex in train)
    assert len(dev) + len(train) == 150
    assert Counter(ex.sentiment for ex in dev) == dict.fromkeys(
        (POSITIVE, NEGATIVE, NEUTRAL), round(50 * DEV_SHARE)
    )
    assert sorted(ex.text for ex in news_part(second, "dev")) == sorted(ex.text for ex in dev)


def test_a_repeated_text_stays_in_one_part(tmp_path: Path) -> None:
    rows = _snippets(20)
    rows += [dict(row) for row in rows[:15]]  # every one of these twice
    path = _write(tmp_path / "n.json", rows)
    dev = {ex.text for ex in news_part(path, "dev")}
    assert dev.isdisjoint(ex.text for ex in news_part(path, "train"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"content": "x"}', "expected a list"),
        ('[{"annotations": []}]', "'content' string"),
        ('[{"content": "x", "annotations": [{"label": "Bullish"}]}]', "unknown entity label"),
    ],
)
def test_bad_files_are_refused_with_the_place(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_news(path)


def test_a_missing_file_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--news"):
        read_news(tmp_path / "FinEntity.json")
