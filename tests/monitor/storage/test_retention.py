"""Retention on a real PostgreSQL: backdated rows go in batches, what must stay stays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from monitor.exceptions import PruneFailed
from monitor.storage import queries
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import Alert, AlertDelivery, Document, RejectedRecord
from monitor.storage.retention import TABLES, Cutoffs, RetentionPolicy, prune
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = RetentionPolicy(documents=30 * DAY, series=30 * DAY, outbox=7 * DAY, batch_rows=2)
OLD_DOCS = [f"old-{i}" for i in range(7)]  # 31 to 37 days old
NEW_DOCS = [f"new-{i}" for i in range(3)]  # 1 to 3 days old


@pytest.fixture
def sessions(database: MonitorSettings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database)
    yield make_sessionmaker(engine)
    engine.dispose()


def document(doc_id: str, published_at: datetime) -> Document:
    return Document(
        id=doc_id,
        published_at=published_at,
        source="wire",
        headline=f"headline {doc_id}",
        tickers=["ACME"],
        topic_id=0,
        topic="Earnings",
        topic_confidence=0.9,
        sentiment="negative",
        p_negative=0.8,
        p_neutral=0.1,
        p_positive=0.1,
        score=-0.7,
        model="test",
    )


def minute_row(dimension: str, key: str, minute: datetime) -> SentimentMinute:
    return SentimentMinute(dimension=dimension, key=key, minute=minute, n_negative=1)


def alert(status: str, document_ids: list[str]) -> Alert:
    start = NOW - 40 * DAY
    return Alert(
        rule="negative-burst",
        dimension="all",
        key=f"{status}-{document_ids[0] if document_ids else ''}",
        status=status,
        started_at=start,
        resolved_at=None if status == "firing" else start + timedelta(hours=1),
        window_start=start,
        window_end=start + timedelta(minutes=5),
        metric="negative_share",
        observed=0.9,
        baseline=0.2,
        deviation=6.0,
        volume=10,
        document_ids=document_ids,
    )


def delivery(alert_id: int, name: str, **times: datetime) -> AlertDelivery:
    return AlertDelivery(
        alert_id=alert_id,
        event="firing",
        endpoint=f"https://hooks.example.com/{name}",
        webhook_id=f"msg_{name}",
        payload={},
        **times,
    )


def seed(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Old and new rows of every pruned table; the ids of a firing and a resolved alert."""
    with sessions.begin() as session:
        for i, doc_id in enumerate(OLD_DOCS):
            session.add(document(doc_id, NOW - (31 + i) * DAY))
        for i, doc_id in enumerate(NEW_DOCS):
            session.add(document(doc_id, NOW - (1 + i) * DAY))
        for i, days in enumerate((40, 35, 2)):
            session.add(rejected(i, NOW - days * DAY))
        for dimension, key in (("all", ""), ("topic", "Earnings"), ("ticker", "ACME")):
            for days in (45, 40, 31, 5):
                session.add(minute_row(dimension, key, NOW - days * DAY))
        resolved = alert("resolved", [])
        session.add(resolved)
        session.flush()
        session.add(delivery(resolved.id, "delivered-old", delivered_at=NOW - 10 * DAY))
        session.add(delivery(resolved.id, "gave-up-old", gave_up_at=NOW - 9 * DAY))
        session.add(delivery(resolved.id, "pending-old", next_attempt_at=NOW - 20 * DAY))
        session.add(delivery(resolved.id, "delivered-new", delivered_at=NOW - DAY))
        return {"resolved": resolved.id}


def rejected(i: int, received_at: datetime) -> RejectedRecord:
    return RejectedRecord(
        received_at=received_at,
        topic="news.raw",
        kafka_partition=0,
        kafka_offset=i,
        reason="invalid_json",
        detail="",
        size_bytes=1,
    )


def doc_ids(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Document.id)))


def minutes(sessions: sessionmaker[Session]) -> list[tuple[str, datetime]]:
    with sessions() as session:
        rows = session.execute(select(SentimentMinute.dimension, SentimentMinute.minute))
        return sorted((d, m) for d, m in rows)


def endpoints(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return {e.rsplit("/", 1)[1] for e in session.scalars(select(AlertDelivery.endpoint))}


def test_prune_deletes_exactly_the_old_rows_in_batches(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    report = prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)

    assert doc_ids(sessions) == set(NEW_DOCS)
    counts = {t.table: (t.rows, t.batches) for t in report.tables}
    assert counts["documents"] == (7, 4)  # 2 + 2 + 2 + 1
    assert counts["rejected_records"] == (2, 2)  # 2, then an empty batch ends the sweep
    assert counts["sentiment_minute"] == (9, 6)  # three old minutes in each of 3 dimensions
    assert counts["alert_deliveries"] == (2, 2)
    assert report.complete and not report.dry_run
    assert minutes(sessions) == sorted((d, NOW - 5 * DAY) for d in ("all", "topic", "ticker"))
    with sessions() as session:
        received = session.scalars(select(RejectedRecord.received_at)).all()
    assert received == [NOW - 2 * DAY]
    # A pending delivery is never pruned, however old; a recent finished one stays.
    assert endpoints(sessions) == {"pending-old", "delivered-new"}


def test_an_open_alerts_documents_and_deliveries_stay(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    with sessions.begin() as session:
        firing = alert("firing", ["old-0", "old-3"])
        session.add(firing)
        session.add(alert("resolved", ["old-5"]))
        session.flush()
        session.add(delivery(firing.id, "firing-old", delivered_at=NOW - 30 * DAY))

    report = prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)

    assert doc_ids(sessions) == {"old-0", "old-3", *NEW_DOCS}
    assert report.rows("documents") == 5
    assert "firing-old" in endpoints(sessions)


def test_the_series_floor_keeps_what_a_rule_still_reads(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    floor = NOW - 41 * DAY  # e.g. a rule whose cursor lags, or with a very long baseline
    cutoffs = RetentionPolicy(series=30 * DAY).cutoffs(NOW, series_floor=floor)
    report = prune(sessions, cutoffs, batch_rows=2)

    assert report.rows("sentiment_minute") == 3
    assert {m for _, m in minutes(sessions)} == {NOW - d * DAY for d in (40, 31, 5)}
    assert report.rows("documents") == 0  # documents' retention is off here
    assert len(doc_ids(sessions)) == len(OLD_DOCS) + len(NEW_DOCS)


def test_dry_run_deletes_nothing_and_counts_what_a_run_deletes(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    cutoffs = POLICY.cutoffs(NOW)
    dry = prune(sessions, cutoffs, batch_rows=2, dry_run=True)
    assert len(doc_ids(sessions)) == 10
    assert len(minutes(sessions)) == 12
    assert len(endpoints(sessions)) == 4

    real = prune(sessions, cutoffs, batch_rows=2)
    assert dry.dry_run
    for table in ("documents", "rejected_records", "sentiment_minute", "alert_deliveries"):
        assert dry.rows(table) == real.rows(table) > 0, table


def test_a_second_run_deletes_nothing_more(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)
    again = prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)
    assert [t.rows for t in again.tables] == [0] * len(TABLES)
    assert doc_ids(sessions) == set(NEW_DOCS)


def test_retention_off_for_a_table_leaves_it_alone(sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    report = prune(sessions, Cutoffs(documents=None, series=None, outbox=NOW), batch_rows=2)
    assert len(doc_ids(sessions)) == 10
    assert len(minutes(sessions)) == 12
    assert endpoints(sessions) == {"pending-old"}
    assert {t.table: t.cutoff for t in report.tables}["documents"] is None


def test_a_failing_batch_commits_nothing_of_itself(
    database: MonitorSettings, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    # Another transaction holds old-4 (the third oldest pair's older row) while we prune.
    holder = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with holder.connect() as conn:
        conn.execute(text("select 1 from documents where id = 'old-4' for update"))
        with pytest.raises(PruneFailed, match="pruning documents failed after deleting 2 rows"):
            prune(
                sessions,
                POLICY.cutoffs(NOW),
                batch_rows=2,
                lock_timeout=timedelta(milliseconds=200),
            )
        # The oldest pair (old-6, old-5) went; the failing batch (old-4, old-3) is all there.
        assert doc_ids(sessions) == {f"old-{i}" for i in range(5)} | set(NEW_DOCS)
        conn.rollback()
    holder.dispose()
    prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)
    assert doc_ids(sessions) == set(NEW_DOCS)


def test_a_deadline_stops_between_batches_and_a_later_call_goes_on(
    sessions: sessionmaker[Session],
) -> None:
    seed(sessions)
    cutoffs = RetentionPolicy(documents=30 * DAY).cutoffs(NOW)

    def late() -> float:
        return 10.0

    first = prune(sessions, cutoffs, batch_rows=2, deadline=1.0, clock=late)
    assert not first.complete
    assert first.rows("documents") == 2  # one batch always runs, so every call makes progress
    second = prune(sessions, cutoffs, batch_rows=2)
    assert second.complete
    assert second.rows("documents") == 5


def test_history_start_is_the_oldest_item_kept(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert queries.history_start(session=session) is None
    seed(sessions)
    with sessions() as session:
        assert queries.history_start(session=session) == NOW - 37 * DAY
    prune(sessions, POLICY.cutoffs(NOW), batch_rows=2)
    with sessions() as session:
        assert queries.history_start(session=session) == NOW - 3 * DAY
