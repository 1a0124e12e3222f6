"""The rollup tables as SQLAlchemy models: sentiment counts per minute, hour, day and week, stored
documents per model by processing time, and which backfills are complete."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import DIMENSIONS, Base, one_of


class _SentimentCounts:
    """The counters every sentiment rollup row holds, whatever its resolution."""

    # First in the table, so the primary key reads (dimension, key, time).
    dimension: Mapped[str] = mapped_column(Text, primary_key=True, sort_order=-1)
    key: Mapped[str] = mapped_column(Text, primary_key=True, sort_order=-1)
    n_negative: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    n_neutral: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    n_positive: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    score_sum: Mapped[float] = mapped_column(Float, server_default=text("0"))


class SentimentMinute(_SentimentCounts, Base):
    """Per-minute counts by class and score sum, per dimension (all, topic, ticker) and key."""

    __tablename__ = "sentiment_minute"
    __table_args__ = (
        CheckConstraint(one_of("dimension", DIMENSIONS), name="dimension"),
        Index("ix_sentiment_minute_dimension_minute", "dimension", "minute"),
    )

    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class SentimentHour(_SentimentCounts, Base):
    """`sentiment_minute` summed per UTC hour; kept in the same transactions, so always equal."""

    __tablename__ = "sentiment_hour"
    __table_args__ = (
        CheckConstraint(one_of("dimension", DIMENSIONS), name="dimension"),
        Index("ix_sentiment_hour_dimension_hour", "dimension", "hour"),
    )

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class SentimentDay(_SentimentCounts, Base):
    """`sentiment_minute` summed per UTC day; kept in the same transactions, so always equal."""

    __tablename__ = "sentiment_day"
    __table_args__ = (
        CheckConstraint(one_of("dimension", DIMENSIONS), name="dimension"),
        Index("ix_sentiment_day_dimension_day", "dimension", "day"),
    )

    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class SentimentWeek(_SentimentCounts, Base):
    """`sentiment_minute` summed per 7 days (see `resolution.WEEK`), for long ranges (0009)."""

    __tablename__ = "sentiment_week"
    __table_args__ = (
        CheckConstraint(one_of("dimension", DIMENSIONS), name="dimension"),
        Index("ix_sentiment_week_dimension_week", "dimension", "week"),
    )

    week: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class _IngestCounts:
    """Stored documents per model in one bucket of processing time (`ingested_at`)."""

    model: Mapped[str] = mapped_column(Text, primary_key=True)
    documents: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IngestMinute(_IngestCounts, Base):
    __tablename__ = "ingest_minute"

    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class IngestHour(_IngestCounts, Base):
    __tablename__ = "ingest_hour"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class IngestDay(_IngestCounts, Base):
    __tablename__ = "ingest_day"

    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


class RollupState(Base):
    """Whether the hour/day and ingest rollups cover all history (a row named `backfill`), and
    whether every document has its stored `search_vector` (a row named `search_vector`, 0007).

    Until they do (a database that had rows before migration 0005 or 0007, until `finsent db
    backfill-rollups` finishes), queries read the minute rollup and `documents` as before, and
    searches match on the search expression.
    """

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
