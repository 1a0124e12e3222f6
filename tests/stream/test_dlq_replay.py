"""`finsent dlq list|show|replay` as a user runs them, against a real worker, broker and
PostgreSQL: records go back to news.raw, fail again with their count, stop at the maximum; a
record whose cause is fixed is stored, and counted, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from subprocess import Popen
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from monitor.storage.settings import MonitorSettings
from stream.kafka import open_producer
from stream.settings import StreamSettings
from tests.stream.conftest import worker_env
from tests.stream.helpers import headline_items, read_topic, scalar, send_values, wait_for_count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS = "select count(*) from documents"
REJECTS = "select count(*) from rejected_records"
ALL_COUNT = (
    "select coalesce(sum(n_negative + n_neutral + n_positive), 0) from sentiment_minute "
    "where dimension = 'all'"
)
HOSTILE = b"{not json \x1b[2J\x1b]0;pwned\x07 \xff"
# Three invalid_json records to replay; an invalid_utf8 and an empty_text one to leave alone.
BAD = [b"{not json 0", b"{not json 1", b"{not json 2", HOSTILE, b'{"headline": "  "}']


def dlq(
    stream: StreamSettings, database: MonitorSettings, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finsent", "dlq", *args],
        env=worker_env(stream, database, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def redrives(records: list[Any]) -> Counter[bytes | None]:
    """Dead letters (marks left out) by their `finsent-redrives` header."""
    dead = [dict(r.headers) for r in records if "finsent-redriven" not in dict(r.headers)]
    return Counter(h.get("finsent-redrives") for h in dead)


async def test_replay_sends_back_and_stops_at_the_maximum(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    at_most = {"FINSENT_DLQ_MAX_REDRIVES": "2"}
    await send_values(stream_settings, [*headline_items(20), *BAD])
    start_worker()
    assert wait_for_count(database, REJECTS, 5) == 5
    dead = await read_topic(stream_settings, stream_settings.topic_dlq, expect=5)
    assert redrives(dead) == {None: 5}

    listed = dlq(stream_settings, database, "list", "--reason", "invalid_json", **at_most)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3
    assert all("invalid_json" in line and "pending" in line for line in lines)

    hostile = next(r for r in dead if r.value == HOSTILE)
    shown = dlq(stream_settings, database, "show", f"{hostile.partition}:{hostile.offset}")
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "{not json \\x1b[2J\\x1b]0;pwned\\x07 \\xff" in shown.stdout
    assert f"source     {stream_settings.topic_raw} " in shown.stdout
    assert f"size       {len(HOSTILE)} bytes" in shown.stdout
    ambiguous = dlq(stream_settings, database, "show", str(hostile.offset))
    assert ambiguous.returncode == 2
    assert ambiguous.stderr.strip().splitlines() == [
        f"error: {stream_settings.topic_dlq} has 2 partitions: give the position as "
        f"PARTITION:OFFSET, e.g. 0:{hostile.offset} (see `finsent dlq list`)"
    ]
    missing = dlq(stream_settings, database, "show", "0:999")
    assert missing.returncode == 2
    assert "no dead letter at" in missing.stderr

    dry = dlq(stream_settings, database, "replay", "--dry-run", **at_most)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would re-drive ") == 5
    assert f"would send 5 dead letters to {stream_settings.topic_raw}" in dry.stdout
    raw = await read_topic(stream_settings, stream_settings.topic_raw, expect=26, timeout_s=5)
    assert len(raw) == 25, "a dry run sends nothing"

    # Nothing is fixed: each replay sends the three back and the worker rejects them again.
    for count, rejects, dlq_records in ((1, 8, 11), (2, 11, 17)):
        again = dlq(stream_settings, database, "replay", "--reason", "invalid_json", **at_most)
        assert again.returncode == 0, again.stderr
        assert f"sent 3 dead letters to {stream_settings.topic_raw}" in again.stdout
        assert again.stdout.count(f"(re-drive {count} of 2)") == 3
        assert wait_for_count(database, REJECTS, rejects) == rejects
        dead = await read_topic(stream_settings, stream_settings.topic_dlq, expect=dlq_records)
        assert len(dead) == dlq_records  # dead letters and one mark per re-driven letter
        assert redrives(dead)[str(count).encode()] == 3
    raw = await read_topic(stream_settings, stream_settings.topic_raw, expect=31)
    assert redrives(raw) == {None: 25, b"1": 3, b"2": 3}

    last = dlq(stream_settings, database, "replay", "--reason", "invalid_json", **at_most)
    assert last.returncode == 0, last.stderr
    assert last.stdout.count("re-driven 2 times, the maximum (FINSENT_DLQ_MAX_REDRIVES=2)") == 3
    assert "sent 0 dead letters" in last.stdout
    assert "skipped 3; 6 sent back by an earlier replay" in last.stdout
    raw = await read_topic(stream_settings, stream_settings.topic_raw, expect=32, timeout_s=5)
    assert len(raw) == 31
    assert scalar(database, REJECTS) == 11

    states = dlq(stream_settings, database, "list", "--limit", "100", **at_most).stdout
    assert Counter(line.split()[9] for line in states.splitlines()) == {
        "redriven": 6,
        "exhausted": 3,
        "pending": 2,  # the invalid_utf8 and empty_text ones, never replayed
    }
    assert scalar(database, DOCS) == 20


async def test_a_dead_letter_whose_cause_is_fixed_is_stored_once(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text("alter table documents add constraint no_embargo check (headline not like 'EMB%')")
        )
    refused = json.dumps({"id": "embargo", "headline": "EMBARGOED Contoso results"}).encode()
    await send_values(stream_settings, [*headline_items(9), refused])
    start_worker()
    assert wait_for_count(database, REJECTS, 1) == 1
    (dead,) = await read_topic(stream_settings, stream_settings.topic_dlq, expect=1)
    assert dict(dead.headers)["finsent-reason"] == b"storage_refused"

    with engine.begin() as conn:  # the cause is fixed
        conn.execute(text("alter table documents drop constraint no_embargo"))
    engine.dispose()
    first = dlq(stream_settings, database, "replay", "--reason", "storage_refused")
    assert first.returncode == 0, first.stderr
    assert "sent 1 dead letters" in first.stdout
    assert wait_for_count(database, DOCS, 10) == 10
    assert scalar(database, ALL_COUNT) == 10

    second = dlq(stream_settings, database, "replay")
    assert "sent 0 dead letters" in second.stdout
    assert "1 sent back by an earlier replay" in second.stdout

    # The same item dead-lettered by an older version (no finsent headers): sent back, it is
    # published again but stored and counted once.
    async with open_producer(stream_settings) as producer:
        await producer.send_and_wait(stream_settings.topic_dlq, refused, partition=0)
    third = dlq(stream_settings, database, "replay")
    assert "re-drive 0:" in third.stdout and " unknown (re-drive 1 of 3)" in third.stdout
    assert "sent 1 dead letters" in third.stdout
    scored = await read_topic(stream_settings, stream_settings.topic_scored, expect=11)
    assert [json.loads(r.value)["id"] for r in scored].count("embargo") == 2
    assert scalar(database, DOCS) == 10
    assert scalar(database, ALL_COUNT) == 10


def test_an_unreachable_broker_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "finsent", "dlq", "list"],
        env={**os.environ, "FINSENT_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: FINSENT_KAFKA_BOOTSTRAP: cannot reach a Kafka broker at 127.0.0.1:1"
    )
