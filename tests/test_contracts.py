"""Contracts with one home (DESIGN.md): the labels live in `model.labels` and every layer reads
them from there."""

from __future__ import annotations

from dashboard import transforms
from model import labels
from stream.synthetic import TEMPLATES


def test_every_layer_reads_the_one_list_of_labels() -> None:
    assert len(labels.TOPICS) == 20
    assert transforms.TOPICS is labels.TOPICS and transforms.SENTIMENTS is labels.SENTIMENTS
    assert tuple(TEMPLATES) == labels.TOPICS
