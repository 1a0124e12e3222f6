"""Contracts with one home (DESIGN.md): the labels live in `model.labels` and every layer reads
them from there."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from dashboard import transforms
from model import labels
from model.scorer import Prediction
from stream.batch import RawRecord, prepare, to_document
from stream.reader import InputFormat, ReadItem, items_in
from stream.scored import document_of, scored_fields
from stream.synthetic import TEMPLATES


def test_every_layer_reads_the_one_list_of_labels() -> None:
    assert len(labels.TOPICS) == 20
    assert transforms.TOPICS is labels.TOPICS and transforms.SENTIMENTS is labels.SENTIMENTS
    assert tuple(TEMPLATES) == labels.TOPICS


# One reader and one builder: `finsent score` and the worker give the same item the same fields.
SAMPLES = [
    b'{"id": "c1", "headline": "Contoso beats, $ctso up", "tickers": ["nwf"],'
    b' "published_at": "2026-07-01T09:00:00Z", "source": "wire"}',
    b'{"body": "Northwind cuts guidance. Shares of $NWF and $BRK.B fall.",'
    b' "published_at": "2026-07-01T09:01:00+02:00"}',
    b'{"headline": "  Fabrikam recalls cars  ", "tickers": ["$FBKM", "FBKM"],'
    b' "url": "https://example.com/a", "published_at": "2026-07-01T09:02:00Z"}',
]
BAD_SAMPLES = [b"not json", b'{"headline": ""}', b'{"headline": 5}', b"[1]"]
PREDICTION = Prediction("Earnings", 5, 0.9, "negative", 0.7, 0.2, 0.1, -0.6)


def _worker_fields(value: bytes) -> dict[str, object] | None:
    record = RawRecord("news.raw", 0, 0, 1_780_000_000_000, None, value)
    batch = prepare([record])
    if not batch.accepted:
        return None
    return scored_fields(to_document(batch.accepted[0], PREDICTION, "m 1"))


def _score_fields(value: bytes) -> dict[str, object] | None:
    now = datetime(2026, 7, 1, tzinfo=UTC)
    (read,) = items_in(io.BytesIO(value + b"\n"), name="-", fmt=InputFormat.jsonl, now=now)
    if not isinstance(read, ReadItem):
        return None
    return scored_fields(document_of(read.item, PREDICTION, "m 1"))


@pytest.mark.parametrize("value", SAMPLES)
def test_score_and_the_worker_give_an_item_the_same_fields(value: bytes) -> None:
    worker, offline = _worker_fields(value), _score_fields(value)
    assert worker is not None and worker == offline


def test_cashtags_and_given_tickers_merge_one_way() -> None:
    fields = [_score_fields(v) for v in SAMPLES]
    assert [f["tickers"] for f in fields if f] == [["NWF", "CTSO"], ["NWF", "BRK.B"], ["FBKM"]]


@pytest.mark.parametrize("value", BAD_SAMPLES)
def test_score_and_the_worker_refuse_the_same_records(value: bytes) -> None:
    assert _worker_fields(value) is None and _score_fields(value) is None
