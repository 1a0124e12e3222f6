"""`finsent produce`: file formats, bad lines, the synthetic feed, publishing to a real broker."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stream.reader import BadLine, InputFormat, ReadItem, items_in
from stream.settings import StreamSettings
from stream.synthetic import TEMPLATES, Burst, FeedPlan, synthetic_feed
from tests.stream.helpers import read_topic

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _read(text: str, fmt: InputFormat) -> list[ReadItem | BadLine]:
    source = io.BytesIO(text.encode())
    return list(items_in(source, name="-", fmt=fmt, now=T0))


def test_jsonl_with_bad_lines_reports_their_numbers() -> None:
    results = _read(
        '{"headline": "Contoso up"}\n\nnot json\n[1]\n{"headline": ""}\n', InputFormat.jsonl
    )
    assert isinstance(results[0], ReadItem) and results[0].fields["id"]
    bad = [r for r in results if isinstance(r, BadLine)]
    assert [b.line for b in bad] == [3, 4, 5]
    assert "not JSON" in bad[0].reason
    assert "empty_text" in bad[2].reason


def test_csv_rows_become_items_with_ticker_lists() -> None:
    text = (
        "headline,source,tickers,published_at\n"
        "Fabrikam recalls cars,wire,FBKM; NWF,2026-07-01T09:00:00Z\n"
        ",wire,,\n"
    )
    first, second = _read(text, InputFormat.csv)
    assert isinstance(first, ReadItem)
    assert first.fields["tickers"] == ["FBKM", "NWF"]
    assert isinstance(second, BadLine) and second.line == 3


def test_synthetic_feed_is_deterministic_and_covers_every_topic() -> None:
    plan = FeedPlan(T0, spacing_s=2.0, count=2000, seed=3)
    first, again = list(synthetic_feed(plan)), list(synthetic_feed(plan))
    assert first == again
    assert first[1]["published_at"] == (T0 + timedelta(seconds=2)).isoformat()
    headlines = {item["headline"] for item in first}
    for topic, variants in TEMPLATES.items():
        stems = [v.split("{")[0] for v in variants]
        assert any(any(h.startswith(s) for h in headlines) for s in stems), topic


def test_burst_is_negative_news_about_its_topic_and_ticker() -> None:
    burst = Burst("Legal | Regulation", "NWF", at_s=100, length_s=50, share=1.0)
    feed = list(synthetic_feed(FeedPlan(T0, spacing_s=1.0, count=200, burst=burst)))
    inside = feed[100:150]
    negative = TEMPLATES["Legal | Regulation"][0].split("{")[0]
    assert all(
        item["headline"].startswith(negative) and "$NWF" in item["headline"] for item in inside
    )
    assert sum("$NWF" in item["headline"] for item in feed[:100]) < 30


def test_burst_rejects_unknown_topic() -> None:
    with pytest.raises(ValueError, match="not one of the 20 topics"):
        Burst("Weather", None, 0, 10)


@pytest.mark.integration
async def test_produce_command_publishes_and_reports_bad_lines(
    stream_settings: StreamSettings, tmp_path: Path
) -> None:
    source = tmp_path / "feed.jsonl"
    source.write_text(
        json.dumps({"id": "n1", "headline": "Northwind raises dividend $NWF"})
        + "\n{broken\n"
        + json.dumps({"id": "n2", "headline": "Contoso names finance chief"})
        + "\n"
    )
    env = {
        **os.environ,
        "FINSENT_KAFKA_BOOTSTRAP": stream_settings.kafka_bootstrap,
        "FINSENT_TOPIC_RAW": stream_settings.topic_raw,
        "FINSENT_TOPIC_PARTITIONS": str(stream_settings.topic_partitions),
    }
    result = subprocess.run(
        [sys.executable, "-m", "finsent", "produce", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "line 2 skipped" in result.stderr
    assert "sent 2 items" in result.stderr
    records = await read_topic(stream_settings, stream_settings.topic_raw, expect=2)
    assert sorted(r.key for r in records) == [b"n1", b"n2"]
