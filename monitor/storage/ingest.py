"""The worker's sink: store one batch of scored documents and rejections in one transaction.

Idempotent by design: documents already stored are skipped and only new ones are counted in
the rollups (`rollup_tables.write_rollups`), so a replayed Kafka batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine

from monitor.storage.rollup import Counted
from monitor.storage.rollup_tables import write_rollups


@dataclass(frozen=True, slots=True)
class ScoredDocument:
    """One validated, scored news item, as stored in `documents`."""

    id: str
    published_at: datetime
    source: str
    headline: str
    body: str | None
    url: str | None
    lang: str | None
    tickers: list[str]
    topic_id: int
    topic: str
    topic_confidence: float
    sentiment: str
    p_negative: float
    p_neutral: float
    p_positive: float
    score: float
    model: str
    kafka_partition: int | None
    kafka_offset: int | None


@dataclass(frozen=True, slots=True)
class Rejection:
    """One record that failed validation, as stored in `rejected_records`."""

    received_at: datetime
    topic: str
    kafka_partition: int
    kafka_offset: int
    reason: str
    detail: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    new_documents: int
    minute_rows: int
    new_rejections: int


_DOC_COLUMNS = [f.name for f in fields(ScoredDocument)]
_REJECT_COLUMNS = [f.name for f in fields(Rejection)]
# A document as a binary COPY row (`astuple` deep-copies every field: ~50x slower).
_DOC_ROW = attrgetter(*_DOC_COLUMNS)
_DOC_TYPES = {
    "id": "text", "published_at": "timestamptz", "source": "text", "headline": "text",
    "body": "text", "url": "text", "lang": "text", "tickers": "text[]", "topic_id": "int2",
    "topic": "text", "topic_confidence": "float8", "sentiment": "text", "p_negative": "float8",
    "p_neutral": "float8", "p_positive": "float8", "score": "float8", "model": "text",
    "kafka_partition": "int4", "kafka_offset": "int8",
}  # fmt: skip

_CREATE_STAGE = """
create temp table if not exists incoming_documents
  (like documents including defaults) on commit delete rows
"""
_INSERT_NEW = f"""
insert into documents ({", ".join(_DOC_COLUMNS)})
select {", ".join(_DOC_COLUMNS)} from incoming_documents order by id
on conflict (id) do nothing
returning published_at, topic, tickers, sentiment, score, model, ingested_at
"""  # noqa: S608 - column names come from the dataclass, not from input
_INSERT_REJECTIONS = f"""
insert into rejected_records ({", ".join(_REJECT_COLUMNS)})
select * from unnest(
  %s::timestamptz[], %s::text[], %s::int[], %s::bigint[], %s::text[], %s::text[], %s::int[])
on conflict (topic, kafka_partition, kafka_offset) do nothing
"""  # noqa: S608 - fixed column list


def write_batch(
    engine: Engine, documents: Sequence[ScoredDocument], rejections: Sequence[Rejection]
) -> BatchResult:
    """Store a batch atomically: new documents, their rollup counts, and the rejections."""
    with engine.begin() as connection:
        raw = _psycopg(connection)
        with raw.cursor() as cursor:
            counted = _insert_documents(cursor, documents) if documents else []
            minute_rows = write_rollups(cursor, counted)
            new_rejections = 0
            if rejections:
                cursor.execute(_INSERT_REJECTIONS, _columns(rejections))
                new_rejections = max(cursor.rowcount, 0)
    return BatchResult(len(counted), minute_rows, new_rejections)


def _insert_documents(cursor: psycopg.Cursor[Any], docs: Sequence[ScoredDocument]) -> list[Counted]:
    cursor.execute(_CREATE_STAGE)
    columns = ", ".join(_DOC_COLUMNS)
    with cursor.copy(f"copy incoming_documents ({columns}) from stdin (format binary)") as copy:
        copy.set_types([_DOC_TYPES[c] for c in _DOC_COLUMNS])
        for doc in docs:
            copy.write_row(_DOC_ROW(doc))
    cursor.execute(_INSERT_NEW)
    return [Counted(*row) for row in cursor.fetchall()]


def _columns(rows: Sequence[Rejection]) -> list[list[object]]:
    """Transpose dataclass rows into one list per column, for `unnest`."""
    return [list(column) for column in zip(*(astuple(r) for r in rows), strict=True)]


def _psycopg(connection: Connection) -> psycopg.Connection[Any]:
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError("monitor.storage.ingest needs the psycopg 3 driver (postgresql+psycopg://)")
    return driver


def stored_documents(engine: Engine, ids: Sequence[str]) -> dict[str, ScoredDocument]:
    """The documents among `ids` that are already stored, so a replay need not score them again."""
    if not ids:
        return {}
    query = f"select {', '.join(_DOC_COLUMNS)} from documents where id = any(%s)"  # noqa: S608
    with engine.connect() as connection:
        with _psycopg(connection).cursor() as cursor:
            cursor.execute(query, (list(ids),))
            return {row[0]: ScoredDocument(*row) for row in cursor.fetchall()}
