"""Metrics per task."""

from __future__ import annotations

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
