"""The `news.raw` contract: what is accepted, how it is normalised, and why the rest is rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.schema import (
    MAX_RECORD_BYTES,
    InvalidRecord,
    RejectReason,
    extract_cashtags,
    item_id,
    parse_news,
)

KAFKA_TIME = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def parse(obj: object) -> object:
    return parse_news(json.dumps(obj).encode(), default_published_at=KAFKA_TIME)


def test_minimal_item_gets_defaults() -> None:
    item = parse_news(
        b'{"headline": "  Contoso raises guidance  "}', default_published_at=KAFKA_TIME
    )
    assert item.headline == "Contoso raises guidance"
    assert item.source == "unknown"
    assert item.published_at == KAFKA_TIME
    assert item.id == item_id("unknown", None, "Contoso raises guidance")
    assert item.tickers == ()


def test_full_item_is_kept() -> None:
    item = parse_news(
        json.dumps(
            {
                "id": "wire-17",
                "headline": "Fabrikam $fab slides after recall",
                "body": "The recall covers two plants.",
                "source": "wire",
                "published_at": "2026-05-04T08:15:00+02:00",
                "url": "https://news.example/fab",
                "lang": "en",
                "tickers": ["$ctso", "FAB"],
                "extra": {"ignored": True},
            }
        ).encode(),
        default_published_at=KAFKA_TIME,
    )
    assert item.id == "wire-17"
    assert item.published_at == datetime(2026, 5, 4, 6, 15, tzinfo=UTC)
    assert item.published_at.utcoffset() == timedelta(hours=2)
    assert item.tickers == ("CTSO", "FAB")  # given first, then cashtags, each once
    assert item.body == "The recall covers two plants."


def test_body_only_item_takes_its_title_from_the_body() -> None:
    item = parse({"body": "  " + "Long report. " * 40})
    assert item.headline is None
    assert item.title.startswith("Long report.")
    assert len(item.title) <= 200


def test_id_prefers_url_over_text() -> None:
    a = parse({"headline": "one", "url": "https://x.example/1", "source": "s"})
    b = parse({"headline": "two", "url": "https://x.example/1", "source": "s"})
    c = parse({"headline": "one", "source": "s"})
    assert a.id == b.id != c.id


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json at all", RejectReason.invalid_json),
        (b'["a", "list"]', RejectReason.not_an_object),
        (b'"just a string"', RejectReason.not_an_object),
        (b"\xff\xfe broken", RejectReason.invalid_utf8),
        (b'{"source": "wire"}', RejectReason.missing_text),
        (b'{"headline": "   \\n  "}', RejectReason.empty_text),
        (b'{"headline": 42}', RejectReason.invalid_field),
        (b'{"headline": "x", "tickers": "AAPL"}', RejectReason.invalid_field),
        (b'{"headline": "x", "published_at": "yesterday"}', RejectReason.invalid_field),
        (b'{"headline": "x", "published_at": "2026-05-04T08:15:00"}', RejectReason.invalid_field),
        (json.dumps({"headline": "y" * 2001}).encode(), RejectReason.headline_too_long),
        (b'{"headline": "' + b"z" * MAX_RECORD_BYTES + b'"}', RejectReason.too_large),
    ],
)
def test_bad_records_say_why(value: bytes, reason: RejectReason) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_news(value, default_published_at=KAFKA_TIME)
    assert caught.value.reason is reason
    assert caught.value.detail


def test_field_errors_name_the_field() -> None:
    with pytest.raises(InvalidRecord, match="published_at"):
        parse({"headline": "x", "published_at": "2026-05-04T08:15:00"})


@pytest.mark.parametrize(
    ("text", "tickers"),
    [
        ("$aapl beats, $MSFT lags", ["AAPL", "MSFT"]),
        ("$BRK.B and $RDS-A", ["BRK.B", "RDS-A"]),
        ("a $5 coffee and $100M deal", []),
        ("price$AAPL glued", []),
        ("$TSLA $tsla $Tsla", ["TSLA"]),
    ],
)
def test_cashtags(text: str, tickers: list[str]) -> None:
    assert extract_cashtags(text) == tickers


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_invalid_record(value: bytes) -> None:
    try:
        item = parse_news(value, default_published_at=KAFKA_TIME)
    except InvalidRecord as e:
        assert isinstance(e.reason, RejectReason)
    else:
        assert item.headline or item.body


@given(
    headline=st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        min_size=1,
        max_size=80,
    ).filter(lambda s: s.strip()),
    offset_minutes=st.integers(min_value=-720, max_value=720),
)
def test_valid_items_round_trip(headline: str, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    when = datetime(2026, 1, 1, 12, tzinfo=zone)
    item = parse({"headline": headline, "published_at": when.isoformat()})
    assert item.headline == headline.strip()
    assert item.published_at == when
    assert item.id == parse({"headline": headline}).id  # the same text hashes the same


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"headline": "a\x00b"}, "headline"),
        ({"headline": "a\ud800b"}, "headline"),
        ({"headline": "x", "id": "i" * 201}, "id"),
        ({"headline": "x", "tickers": ["T" * 17]}, "tickers"),
        ({"headline": "x", "tickers": ["A"] * 51}, "tickers"),
        ({"headline": "x", "source": "s\x00"}, "source"),
    ],
)
def test_values_the_database_cannot_store_are_rejected(obj: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRecord, match=field) as caught:
        parse_news(json.dumps(obj).encode(), default_published_at=KAFKA_TIME)
    assert caught.value.reason is RejectReason.invalid_field
