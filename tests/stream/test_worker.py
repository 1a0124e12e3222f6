"""The worker against a real broker and a real PostgreSQL: exact counts through bad input,
replays, crashes, database outages and shutdowns."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from subprocess import Popen

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from monitor.storage.settings import MonitorSettings
from stream.settings import StreamSettings
from tests.stream.helpers import headline_items, read_topic, scalar, send_values, wait_for_count

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS = "select count(*) from documents"
REJECTS = "select count(*) from rejected_records"
ALL_COUNT = (
    "select coalesce(sum(n_negative + n_neutral + n_positive), 0) from sentiment_minute "
    "where dimension = 'all'"
)

BAD_KINDS = {
    "invalid_json": b"{not json",
    "not_an_object": b'["a", "list"]',
    "missing_text": b'{"source": "wire"}',
    "invalid_field": b'{"headline": ["not", "a", "string"]}',
    "empty_text": b'{"headline": "   "}',
    "too_large": b'{"headline": "' + b"x" * (1024 * 1024 + 1) + b'"}',
    "invalid_utf8": b'{"headline": "caf\xe9"}',
}


def mixed_feed(total: int, bad: int) -> tuple[list[bytes], Counter[str]]:
    """`total` records of which `bad` break the contract, cycling through every kind."""
    values = headline_items(total - bad)
    kinds = list(BAD_KINDS)
    expected: Counter[str] = Counter()
    for i in range(bad):
        kind = kinds[i % len(kinds)]
        expected[kind] += 1
        values.insert((i * 97) % len(values), BAD_KINDS[kind])
    return values, expected


async def test_bad_records_are_dead_lettered_and_counts_are_exact(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    values, expected_reasons = mixed_feed(5000, 50)
    await send_values(stream_settings, values)
    start_worker()

    assert wait_for_count(database, DOCS, 4950) == 4950
    assert wait_for_count(database, REJECTS, 50) == 50
    dead = await read_topic(stream_settings, stream_settings.topic_dlq, expect=50)
    assert len(dead) == 50
    reasons = Counter(dict(r.headers)["finsent-reason"].decode() for r in dead)
    assert reasons == expected_reasons
    for record in dead:
        headers = dict(record.headers)
        assert headers["finsent-source-topic"].decode() == stream_settings.topic_raw
        assert int(headers["finsent-source-offset"]) >= 0
        if headers["finsent-reason"] != b"too_large":
            assert record.value in BAD_KINDS.values()  # the original bytes
    assert scalar(database, ALL_COUNT) == 4950

    # The same 5,000 again: everything is published again, nothing is counted again.
    await send_values(stream_settings, values)
    scored = await read_topic(stream_settings, stream_settings.topic_scored, expect=9900)
    assert len(scored) == 9900
    assert len({json.loads(r.value)["id"] for r in scored}) == 4950
    assert scalar(database, DOCS) == 4950
    # Bad records have no id to deduplicate by: each one sent is its own event, dead-lettered.
    assert scalar(database, REJECTS) == 100
    assert scalar(database, ALL_COUNT) == 4950


async def worker_mid_stream(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> Popen[bytes]:
    """A worker with small batches, part-way through 3,000 items."""
    await send_values(stream_settings, headline_items(3000))
    worker = start_worker(FINSENT_MAX_BATCH="32")
    assert wait_for_count(database, DOCS, 200) >= 200
    return worker


async def test_sigkill_mid_stream_loses_nothing_and_counts_nothing_twice(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    first = await worker_mid_stream(stream_settings, database, start_worker)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stored = scalar(database, DOCS)
    assert stored < 3000, "the worker finished before it could be killed"

    start_worker()
    assert wait_for_count(database, DOCS, 3000) == 3000
    assert scalar(database, ALL_COUNT) == 3000


async def test_database_outage_pauses_and_resumes_without_loss(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    worker = await worker_mid_stream(stream_settings, database, start_worker)

    url = make_url(database.sqlalchemy_url)
    name = url.database
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'alter database "{name}" allow_connections false'))
        conn.execute(
            text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :n"),
            {"n": name},
        )
    time.sleep(4)  # the worker retries meanwhile, holding its batch
    with admin.connect() as conn:
        conn.execute(text(f'alter database "{name}" allow_connections true'))
    admin.dispose()

    assert wait_for_count(database, DOCS, 3000) == 3000
    assert scalar(database, ALL_COUNT) == 3000
    assert worker.poll() is None, "the worker must survive a database outage"


async def test_sigterm_commits_the_batch_in_hand_and_exits_zero(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    first = await worker_mid_stream(stream_settings, database, start_worker)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=10) == 0

    start_worker()
    assert wait_for_count(database, DOCS, 3000) == 3000
    # Had the first worker stopped without committing, its last batch would be published twice.
    scored = await read_topic(stream_settings, stream_settings.topic_scored, expect=3000)
    assert len(scored) == 3000


async def test_a_record_postgres_refuses_is_dead_lettered_alone(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    # An operator's constraint makes PostgreSQL refuse one otherwise valid item.
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "alter table documents add constraint no_embargoed "
                "check (headline not like '%EMBARGOED%')"
            )
        )
    engine.dispose()
    refused = json.dumps({"id": "embargo", "headline": "EMBARGOED Contoso results"}).encode()
    await send_values(stream_settings, [*headline_items(99), refused])
    worker = start_worker()

    assert wait_for_count(database, DOCS, 99) == 99
    assert wait_for_count(database, REJECTS, 1) == 1
    (dead,) = await read_topic(stream_settings, stream_settings.topic_dlq, expect=1)
    assert dict(dead.headers)["finsent-reason"] == b"storage_refused"
    assert dead.value == refused
    assert scalar(database, ALL_COUNT) == 99
    assert worker.poll() is None


async def test_an_id_stored_by_a_batch_still_in_flight_is_published_as_stored(
    stream_settings: StreamSettings,
    database: MonitorSettings,
    start_worker: Callable[..., Popen[bytes]],
) -> None:
    # Each id comes twice, with different headlines, 40 records apart: with batches of 32 the
    # second copy is looked up while the batch holding the first is still being written.
    def version(i: int, text: str) -> bytes:
        headline = f"{text} Contoso update number {i}"
        return json.dumps({"id": f"twice-{i}", "headline": headline}).encode()

    values = []
    for start in range(0, 600, 40):
        values += [version(i, "First") for i in range(start, start + 40)]
        values += [version(i, "Second") for i in range(start, start + 40)]
    await send_values(stream_settings, values)
    start_worker(FINSENT_MAX_BATCH="32")

    assert wait_for_count(database, DOCS, 600) == 600
    # Fewer when both copies fall in one batch: the first is kept, the second dropped.
    scored = await read_topic(
        stream_settings, stream_settings.topic_scored, expect=1200, timeout_s=15
    )
    assert scalar(database, DOCS) == 600
    assert scalar(database, ALL_COUNT) == 600
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("select id, headline from documents")).all())
    engine.dispose()
    published = [json.loads(r.value) for r in scored]
    assert len({p["id"] for p in published}) == 600
    assert [p for p in published if p["headline"] != stored[p["id"]]] == []
