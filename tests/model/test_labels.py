"""Label names and the explicit map from the data's sentiment ids."""

from __future__ import annotations

import pytest

from model.labels import SENTIMENTS, TOPICS, sentiment_from_data, topic_id


def test_topics_follow_design_order() -> None:
    assert len(TOPICS) == 20
    assert TOPICS[0] == "Analyst Update"
    assert TOPICS[2] == "Company | Product News"
    assert TOPICS[11] == "IPO"
    assert TOPICS[19] == "Stock Movement"
    assert len(set(TOPICS)) == 20


def test_sentiment_map_is_explicit() -> None:
    assert SENTIMENTS == ("negative", "neutral", "positive")
    assert SENTIMENTS[sentiment_from_data(0)] == "negative"  # Bearish
    assert SENTIMENTS[sentiment_from_data(1)] == "positive"  # Bullish
    assert SENTIMENTS[sentiment_from_data(2)] == "neutral"


def test_unknown_labels_are_rejected() -> None:
    with pytest.raises(ValueError, match="3"):
        sentiment_from_data(3)
    with pytest.raises(ValueError, match="unknown topic"):
        topic_id("Sports")
    assert topic_id("Macro") == 14
