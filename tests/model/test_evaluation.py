"""Metrics per task."""

from __future__ import annotations

import re

import pytest

from model.evaluation import task_metrics


def test_task_metrics() -> None:
    m = task_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], ("a", "b", "c"))
    assert m.accuracy == pytest.approx(3 / 5)
    assert m.confusion == ((1, 1, 0), (0, 2, 0), (1, 0, 0))
    a, b, c = m.classes
    assert (a.precision, a.recall) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (b.precision, b.recall) == (pytest.approx(2 / 3), pytest.approx(1.0))
    assert (c.precision, c.recall, c.f1, c.support) == (0.0, 0.0, 0.0, 1)
    assert m.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_model_card_renders_every_section() -> None:
    from model.card import CARD_TEMPLATE, CardInputs, render_card

    m = task_metrics([0, 1, 2], [0, 1, 1], ("negative", "neutral", "positive"))
    training = {
        "config": {
            "epochs": 5,
            "teachers": ["/home/me/var/a", "var/b"],
            "data_dir": "/private/data-dir",
            "base_model": "/opt/models/all-mpnet-base-v2",
        },
        "history": [{"epoch": 1, "steps": 10, "train_loss": 1.5, "seconds": 3.0}],
    }
    card = render_card(
        CardInputs(
            model_version="x@9.9.9",
            metrics={"sentiment": m},
            reference_metrics=None,
            files={"model.int8.onnx": 2_000_000},
            training=training,
            speed_markdown="SPEED TABLE",
            experiments_markdown="RUNS TABLE",
        ),
        CARD_TEMPLATE.read_text(encoding="utf-8"),
    )
    assert "x@9.9.9" in card and "SPEED TABLE" in card and "RUNS TABLE" in card
    assert "| sentiment | 3 | 0.6667 |" in card
    assert "`teachers` | `['a', 'b']`" in card and "`base_model` | `all-mpnet-base-v2`" in card
    assert "/private/data-dir" not in card and "/home/me" not in card
    assert not re.search(r"\{[a-z_]+\}", card)  # no placeholder left unfilled
