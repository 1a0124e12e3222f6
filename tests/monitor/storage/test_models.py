"""Rows written through the models come back as written, and the constraints hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import Alert, Document
from monitor.storage.settings import MonitorSettings

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 3, 2, 14, 30, 12, tzinfo=UTC)


def _document(**overrides: object) -> Document:
    values: dict[str, object] = {
        "id": "doc-1",
        "published_at": WHEN,
        "source": "wire",
        "headline": "Northwind Foods cuts its outlook as costs climb $NWF",
        "tickers": ["NWF"],
        "topic_id": 5,
        "topic": "Earnings",
        "topic_confidence": 0.91,
        "sentiment": "negative",
        "p_negative": 0.8,
        "p_neutral": 0.15,
        "p_positive": 0.05,
        "score": -0.75,
        "model": "finsent-minilm 1",
    }
    values.update(overrides)
    return Document(**values)


def _alert(**overrides: object) -> Alert:
    values: dict[str, object] = {
        "rule": "negative-share",
        "dimension": "topic",
        "key": "Earnings",
        "status": "firing",
        "started_at": WHEN,
        "window_start": WHEN,
        "window_end": WHEN,
        "metric": "negative_share",
        "observed": 0.7,
        "baseline": 0.2,
        "deviation": 5.1,
        "volume": 40,
    }
    values.update(overrides)
    return Alert(**values)


def test_document_round_trip(database: MonitorSettings) -> None:
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(_document())
    with sessions() as session:
        stored = session.scalars(select(Document)).one()
    engine.dispose()

    assert stored.headline == "Northwind Foods cuts its outlook as costs climb $NWF"
    assert stored.tickers == ["NWF"]
    assert stored.published_at == WHEN
    assert stored.ingested_at is not None


def test_sentiment_must_be_a_known_class(database: MonitorSettings) -> None:
    engine = make_engine(database)
    with pytest.raises(IntegrityError, match="ck_documents_sentiment"):
        with make_sessionmaker(engine).begin() as session:
            session.add(_document(sentiment="bearish"))
    engine.dispose()


def test_only_one_firing_episode_per_rule_and_key(database: MonitorSettings) -> None:
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        session.add(_alert())
    with pytest.raises(IntegrityError, match="uq_alerts_one_firing"):
        with sessions.begin() as session:
            session.add(_alert(started_at=WHEN.replace(minute=45)))
    with sessions.begin() as session:  # a resolved episode does not block a new one
        session.add(_alert(status="resolved", started_at=WHEN.replace(hour=9)))
    engine.dispose()
