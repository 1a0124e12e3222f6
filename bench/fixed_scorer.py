"""A stand-in scorer for the worker benchmark: precomputed outputs, so the pipeline alone is timed.

Benchmark only; the service and its tests use `model.Scorer`.
"""

from __future__ import annotations

from collections.abc import Sequence

from model.scorer import Document, Prediction

_CYCLE = [
    Prediction("Earnings", 5, 0.9, "negative", 0.8, 0.15, 0.05, -0.75),
    Prediction("Markets", 15, 0.8, "neutral", 0.1, 0.8, 0.1, 0.0),
    Prediction("Macro", 14, 0.7, "positive", 0.05, 0.15, 0.8, 0.75),
]


class FixedScorer:
    """Returns a fixed cycle of predictions, chosen by the text's length."""

    model_version = "fixed-benchmark-scorer 0"

    def score_documents(self, docs: Sequence[Document]) -> list[Prediction]:
        return [_CYCLE[len(d.headline or d.body or "") % 3] for d in docs]
