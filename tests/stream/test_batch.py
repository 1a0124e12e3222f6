"""Turning a consumed batch into work: validation, in-batch duplicates, output messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from model.scorer import Prediction
from stream.batch import RawRecord, dlq_headers, prepare, to_document
from stream.scored import scored_message

PREDICTION = Prediction("Earnings", 5, 0.9, "negative", 0.7, 0.2, 0.1, -0.6)


def record(offset: int, value: bytes) -> RawRecord:
    return RawRecord("news.raw", 1, offset, 1_780_000_000_000, None, value)


def test_prepare_splits_valid_invalid_and_duplicates() -> None:
    batch = prepare(
        [
            record(0, b'{"id": "a", "headline": "Contoso beats"}'),
            record(1, b"nope"),
            record(2, b'{"id": "a", "headline": "Contoso beats (again)"}'),
            record(3, b'{"id": "b", "headline": "Fabrikam misses"}'),
        ]
    )
    assert [a.item.id for a in batch.accepted] == ["a", "b"]
    assert batch.accepted[0].item.headline == "Contoso beats"  # the first of a duplicate wins
    assert [r.record.offset for r in batch.rejected] == [1]
    assert batch.duplicates == 1


def test_missing_published_at_takes_the_record_timestamp() -> None:
    (accepted,) = prepare([record(0, b'{"headline": "x"}')]).accepted
    assert accepted.item.published_at == datetime.fromtimestamp(1_780_000_000, UTC)


def test_scored_message_has_the_design_fields() -> None:
    (accepted,) = prepare([record(5, b'{"id": "z", "headline": "Up $ABC"}')]).accepted
    message = json.loads(scored_message(to_document(accepted, PREDICTION, "m 1")))
    assert list(message) == [
        "id", "published_at", "source", "headline", "tickers", "topic", "topic_id",
        "topic_confidence", "sentiment", "p_negative", "p_neutral", "p_positive", "score", "model",
    ]  # fmt: skip
    assert message["tickers"] == ["ABC"]
    assert message["score"] == -0.6


def test_dead_letter_headers_say_why_and_where() -> None:
    (rejected,) = prepare([record(9, b"[1, 2]")]).rejected
    headers = dict(dlq_headers(rejected))
    assert headers["finsent-reason"] == b"not_an_object"
    assert headers["finsent-source-partition"] == b"1"
    assert headers["finsent-source-offset"] == b"9"
