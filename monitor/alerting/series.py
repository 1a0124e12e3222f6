"""Reads the alert evaluator needs: the event-time watermark, per-minute series, headlines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import BigInteger, ColumnElement, Text, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from monitor.alerting.detector import MinuteCounts
from monitor.alerting.rules import Rule
from monitor.storage.models import Document
from monitor.storage.records import Headline, headline_of
from monitor.storage.rollup_models import SentimentMinute


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
        .where(*_of_rule(rule, since, until))
        .order_by(SentimentMinute.key, SentimentMinute.minute)
    )
    series: dict[str, list[MinuteCounts]] = defaultdict(list)
    for key, minute, neg, neu, pos, score in session.execute(query):
        series[key].append(MinuteCounts(minute, int(neg), int(neu), int(pos), float(score)))
    return dict(series)


@dataclass(frozen=True, slots=True)
class MinuteRows:
    """The rows `minute_counts` reads, as columns ordered by minute: the key, the minute (as
    minutes since the epoch), the (negative, neutral, positive) counts and the score sum."""

    keys: list[str]
    minute: NDArray[np.int64]
    counts: NDArray[np.int32]
    score: NDArray[np.float64]


def minute_rows(*, session: Session, rule: Rule, since: datetime, until: datetime) -> MinuteRows:
    """`minute_counts` as columns, without a Python object per row (the evaluator's cache)."""
    epoch_minute = func.floor(func.extract("epoch", SentimentMinute.minute) / 60).cast(BigInteger)
    query = (
        select(
            SentimentMinute.key,
            epoch_minute,
            SentimentMinute.n_negative,
            SentimentMinute.n_neutral,
            SentimentMinute.n_positive,
            SentimentMinute.score_sum,
        )
        .where(*_of_rule(rule, since, until))
        .order_by(SentimentMinute.minute)
    )
    rows = session.execute(query).all()
    return MinuteRows(
        keys=[r[0] for r in rows],
        minute=np.array([r[1] for r in rows], dtype=np.int64),
        counts=np.array([(r[2], r[3], r[4]) for r in rows], dtype=np.int32).reshape(-1, 3),
        score=np.array([r[5] for r in rows], dtype=np.float64),
    )


def _of_rule(rule: Rule, since: datetime, until: datetime) -> list[ColumnElement[bool]]:
    """The rows of the rule's scope (and keys, when it lists some) in [since, until)."""
    found = [
        SentimentMinute.dimension == rule.dimension,
        SentimentMinute.minute >= since,
        SentimentMinute.minute < until,
    ]
    if not rule.keys:
        return found
    # A semi-join on one array parameter: as `IN (...)` or `= ANY(...)`, 5,000 watched keys cost
    # 10-20 ms of planning on every read (the planner weighs each element), more than the read.
    listed = select(func.unnest(literal(list(rule.keys), ARRAY(Text))))
    return [*found, SentimentMinute.key.in_(listed)]


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
