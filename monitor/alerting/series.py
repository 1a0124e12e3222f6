"""Reads the alert evaluator needs: the event-time watermark, per-minute series, headlines."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.alerting.detector import MinuteCounts
from monitor.alerting.rules import Rule
from monitor.storage.models import Document, SentimentMinute
from monitor.storage.records import Headline, headline_of


def watermark(*, session: Session, lateness: timedelta) -> datetime | None:
    """The newest `published_at` seen, less the allowed lateness; None before any document.

    A document stamped in the future (a producer's wrong clock) counts as published now, so it
    cannot close windows whose documents are still arriving.
    """
    newest: datetime | None = session.scalar(select(func.max(Document.published_at)))
    if newest is None:
        return None
    return min(newest, datetime.now(UTC)) - lateness


def first_minute(*, session: Session, dimension: str) -> datetime | None:
    """The oldest minute with data for the dimension."""
    return session.scalar(
        select(func.min(SentimentMinute.minute)).where(SentimentMinute.dimension == dimension)
    )


def minute_counts(
    *, session: Session, rule: Rule, since: datetime, until: datetime
) -> dict[str, list[MinuteCounts]]:
    """Per key of the rule's scope, the counts of each minute in [since, until) that has data."""
    query = (
        select(
            SentimentMinute.key,
            SentimentMinute.minute,
            SentimentMinute.n_negative,
            SentimentMinute.n_neutral,
            SentimentMinute.n_positive,
            SentimentMinute.score_sum,
        )
        .where(
            SentimentMinute.dimension == rule.dimension,
            SentimentMinute.minute >= since,
            SentimentMinute.minute < until,
        )
        .order_by(SentimentMinute.key, SentimentMinute.minute)
    )
    if rule.keys:
        query = query.where(SentimentMinute.key.in_(rule.keys))
    series: dict[str, list[MinuteCounts]] = defaultdict(list)
    for key, minute, neg, neu, pos, score in session.execute(query):
        series[key].append(MinuteCounts(minute, int(neg), int(neu), int(pos), float(score)))
    return dict(series)


def driving_headlines(
    *, session: Session, dimension: str, key: str, since: datetime, until: datetime, limit: int
) -> list[Headline]:
    """The most negative documents of [since, until) for one series."""
    query = select(Document).where(Document.published_at >= since, Document.published_at < until)
    if dimension == "topic":
        query = query.where(Document.topic == key)
    elif dimension == "ticker":
        query = query.where(Document.tickers.contains([key]))
    query = query.order_by(Document.p_negative.desc(), Document.id).limit(limit)
    return [headline_of(d) for d in session.scalars(query)]
