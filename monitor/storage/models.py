"""The database schema as SQLAlchemy 2.0 models: the shared base and naming, documents, alerts and
rejected records (the rollups are in `rollup_models`; `schema.METADATA` holds every table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import Function

# Stable constraint names, so migrations can drop and alter them by name.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SENTIMENTS = ("negative", "neutral", "positive")
DIMENSIONS = ("all", "topic", "ticker")
ALERT_STATUSES = ("firing", "resolved")


def one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} in ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Document(Base):
    """One scored news item; the id is the idempotency key of the whole pipeline."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(one_of("sentiment", SENTIMENTS), name="sentiment"),
        # Newest-first keyset paging: (published_at, id) < cursor, read backwards (0006).
        Index("ix_documents_published_at_id", "published_at", "id"),
        Index("ix_documents_topic_published_at", "topic_id", "published_at"),
        Index("ix_documents_tickers", "tickers", postgresql_using="gin"),
        # The newest item's processing time, and the rollup backfill's walk over history.
        Index("ix_documents_ingested_at", "ingested_at"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ingested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    source: Mapped[str] = mapped_column(Text)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(Text)
    tickers: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    topic_id: Mapped[int] = mapped_column(SmallInteger)
    topic: Mapped[str] = mapped_column(Text)
    topic_confidence: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str] = mapped_column(Text)
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(Text)
    kafka_partition: Mapped[int | None] = mapped_column(Integer)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger)
    # `search_vector()` stored by a trigger (0007); NULL on rows from before 0007 until the
    # backfill fills them. Deferred: only searches read it, and they do in SQL.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)


# Headline search (0006): the English words of the headline plus the tagged tickers, so `AAPL` and
# `$AAPL` find items tagged AAPL. Indexed as an expression (0006) until every row has its stored
# `Document.search_vector` (0007), then dropped (0008 or the backfill); a query on the expression
# must match on exactly `search_vector()`.
def search_vector() -> Function[Any]:
    """The tsvector of a document row's words, as SQL (the function is created by 0006)."""
    return func.documents_search_vector(Document.headline, Document.tickers)


def search_day() -> Function[int]:
    """The UTC day number of a document row's `published_at`, as SQL (the function is created by
    0010); the first key of the text index, so a search reads only its range's days."""
    return func.documents_search_day(Document.published_at)


def search_pairs() -> Function[Any]:
    """The hash buckets of a document row's adjacent word pairs, as SQL (the function is created by
    0011); the key of the pair index, which answers phrases."""
    return func.documents_search_pairs(Document.search_vector)


Index("ix_documents_search_by_day", search_day(), Document.search_vector, postgresql_using="gin")
Index("ix_documents_search_pairs", search_pairs(), postgresql_using="gin")


class Alert(Base):
    """One alert episode: from the window that fired to the window that resolved it."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(one_of("status", ALERT_STATUSES), name="status"),
        # One open episode per rule and key, whatever number of workers evaluate the rules.
        Index(
            "uq_alerts_one_firing",
            "rule",
            "dimension",
            "key",
            unique=True,
            postgresql_where=text("status = 'firing'"),
        ),
        Index("uq_alerts_episode", "rule", "dimension", "key", "started_at", unique=True),
        Index("ix_alerts_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    metric: Mapped[str] = mapped_column(Text)
    # Count-aware alerts (0004 on): `observed` and `expected` are negative counts (or mean
    # scores), `baseline` the baseline's rate, `deviation` the z score; `explanation` says so in
    # words. Older rows have no `expected`: their `observed` and `baseline` are window shares.
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    deviation: Mapped[float] = mapped_column(Float)
    volume: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str | None] = mapped_column(Text)
    # False for episodes that had ended long before they were found (no webhooks were sent).
    notified: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    document_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Closed windows in a row below the resolve threshold (hysteresis), while firing.
    clear_windows: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class AlertCursor(Base):
    """How far (in event time) each rule has been evaluated; rows are locked while evaluating."""

    __tablename__ = "alert_cursors"

    rule: Mapped[str] = mapped_column(Text, primary_key=True)
    evaluated_through: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AlertDelivery(Base):
    """The webhook outbox: one row per alert event and endpoint, retried until delivered."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(one_of("event", ALERT_STATUSES), name="event"),
        Index("uq_alert_deliveries_event", "alert_id", "event", "endpoint", unique=True),
        Index(
            "ix_alert_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("delivered_at is null and gave_up_at is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(Text)
    endpoint: Mapped[str] = mapped_column(Text)
    webhook_id: Mapped[str] = mapped_column(Text, unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RejectedRecord(Base):
    """A `news.raw` record that failed validation; its bytes went to `news.dlq`, its reason here."""

    __tablename__ = "rejected_records"
    __table_args__ = (
        Index(
            "uq_rejected_records_position", "topic", "kafka_partition", "kafka_offset", unique=True
        ),
        Index("ix_rejected_records_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    topic: Mapped[str] = mapped_column(Text)
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
