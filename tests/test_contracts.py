"""The topic list is a contract (DESIGN.md) that layers which may not import each other each
hold: the model's labels, the dashboard's heat map and filters, the synthetic feed's templates."""

from __future__ import annotations

from dashboard import transforms
from model import labels
from stream.synthetic import TEMPLATES


def test_every_layer_holds_the_same_20_topics_in_order() -> None:
    assert len(labels.TOPICS) == 20
    assert transforms.TOPICS == labels.TOPICS
    assert tuple(TEMPLATES) == labels.TOPICS


def test_sentiment_names_agree() -> None:
    assert tuple(transforms.SENTIMENTS) == tuple(labels.SENTIMENTS)
