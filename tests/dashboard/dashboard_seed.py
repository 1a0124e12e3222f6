"""A small, realistic history written straight through the ORM: what the dashboard reads.

Documents and minute rows go in directly; `finsent db backfill-rollups`' function then derives
the hour/day rollups and ingest counters from them, as the worker would have kept them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from monitor.storage.backfill import backfill_rollups
from monitor.storage.db import make_engine, make_sessionmaker
from monitor.storage.models import Alert, AlertDelivery, Document, RejectedRecord
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.settings import MonitorSettings

END = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the newest minute is 14:59
MINUTES = 90
TOPICS = ("Earnings", "Macro", "Stock Movement", "Fed | Central Banks")
TICKERS = ("NWF", "ACME", "ZEN")
SECRET_ENDPOINT = "https://hooks.example.com/services/T000/B000/s3cr3tT0ken"
BURST_TOPIC, BURST_TICKER = "Earnings", "NWF"


def _sentiment(minute: int, i: int, burst: bool) -> str:
    if burst:
        return "negative" if i % 5 else "neutral"
    return ("negative", "neutral", "positive", "positive", "neutral")[(minute + i) % 5]


def documents() -> list[Document]:
    """Four items a minute; the last 15 minutes carry a negative burst on Earnings and $NWF."""
    docs = []
    for minute in range(MINUTES):
        at = END - timedelta(minutes=MINUTES - minute)
        for i in range(4):
            topic = TOPICS[(minute + i) % len(TOPICS)]
            ticker = TICKERS[(minute * 3 + i) % len(TICKERS)]
            burst = minute >= MINUTES - 15 and i < 2
            if burst:
                topic, ticker = BURST_TOPIC, BURST_TICKER
            sentiment = _sentiment(minute, i, burst)
            p_neg = {"negative": 0.8, "neutral": 0.1, "positive": 0.05}[sentiment]
            p_pos = {"negative": 0.05, "neutral": 0.1, "positive": 0.85}[sentiment]
            docs.append(
                Document(
                    id=f"doc-{minute:03d}-{i}",
                    published_at=at + timedelta(seconds=10 * i + 1),
                    ingested_at=at + timedelta(seconds=10 * i + 2),
                    source="wire",
                    headline=f"{topic} item {minute}-{i}: {sentiment} news about ${ticker}",
                    tickers=[ticker],
                    topic_id=0,
                    topic=topic,
                    topic_confidence=0.9,
                    sentiment=sentiment,
                    p_negative=p_neg,
                    p_neutral=1 - p_neg - p_pos,
                    p_positive=p_pos,
                    score=p_pos - p_neg,
                    model="finsent-minilm 1.0.0",
                )
            )
    return docs


def minutes(docs: list[Document]) -> list[SentimentMinute]:
    """The rollup the worker would have written for `docs`."""
    counts: dict[tuple[str, str, datetime], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for doc in docs:
        minute = doc.published_at.replace(second=0, microsecond=0)
        keys = [("all", ""), ("topic", doc.topic)] + [("ticker", t) for t in doc.tickers]
        for dimension, key in keys:
            row = counts[(dimension, key, minute)]
            row[("negative", "neutral", "positive").index(doc.sentiment)] += 1
            row[3] += doc.score
    return [
        SentimentMinute(
            dimension=d,
            key=k,
            minute=m,
            n_negative=int(c[0]),
            n_neutral=int(c[1]),
            n_positive=int(c[2]),
            score_sum=c[3],
        )
        for (d, k, m), c in counts.items()
    ]


def _alert(**values: object) -> Alert:
    base: dict[str, object] = {
        "rule": "negative-spike",
        "metric": "negative_share",
        "observed": 0.8,
        "baseline": 0.2,
        "deviation": 4.2,
        "volume": 24,
    }
    return Alert(**{**base, **values})


def alerts(docs: list[Document]) -> list[Alert]:
    burst_ids = [d.id for d in docs if d.topic == BURST_TOPIC and d.sentiment == "negative"][-8:]
    start = END - timedelta(minutes=10)
    return [
        _alert(
            dimension="topic",
            key=BURST_TOPIC,
            status="firing",
            started_at=start,
            window_start=start - timedelta(minutes=5),
            window_end=start,
            document_ids=burst_ids,
        ),
        _alert(
            dimension="ticker",
            key="ZEN",
            status="resolved",
            started_at=END - timedelta(minutes=70),
            resolved_at=END - timedelta(minutes=50),
            window_start=END - timedelta(minutes=75),
            window_end=END - timedelta(minutes=70),
            # Judged on counts (the firing one above is from before, without `expected`).
            observed=14,
            expected=4.8,
            baseline=0.2,
            deviation=5.1,
            explanation="14 of 24 items negative in the last 5 min; 4.8 expected from the "
            "last 8 h (rate 0.20); z 5.1",
        ),
    ]


def deliveries(alert: Alert) -> list[AlertDelivery]:
    return [
        AlertDelivery(
            alert_id=alert.id,
            event="firing",
            endpoint="http://127.0.0.1:9/hook",
            webhook_id=f"msg_{alert.id}_a",
            payload={"alert": alert.id},
            attempts=1,
            delivered_at=alert.started_at + timedelta(seconds=2),
            last_status=204,
        ),
        AlertDelivery(
            alert_id=alert.id,
            event="firing",
            endpoint=SECRET_ENDPOINT,
            webhook_id=f"msg_{alert.id}_b",
            payload={"alert": alert.id},
            attempts=3,
            last_status=503,
            last_error=f"503 from {SECRET_ENDPOINT}\nretrying",
        ),
    ]


def rejected() -> list[RejectedRecord]:
    reasons = ("not_json", "not_json", "empty_text", "too_large")
    return [
        RejectedRecord(
            received_at=END - timedelta(minutes=20 - i),
            topic="news.raw",
            kafka_partition=0,
            kafka_offset=100 + i,
            reason=reason,
            detail="bad input",
            size_bytes=12,
        )
        for i, reason in enumerate(reasons)
    ]


def seed(settings: MonitorSettings) -> None:
    """Write the whole history into the (migrated, empty) database of `settings`."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            _write(session)
        backfill_rollups(engine)
    finally:
        engine.dispose()


def _write(session: Session) -> None:
    docs = documents()
    session.add_all(docs)
    session.add_all(minutes(docs))
    episodes = alerts(docs)
    session.add_all(episodes)
    session.flush()
    session.add_all(deliveries(episodes[0]))
    session.add_all(rejected())


def neutral_document(
    doc_id: str, at: datetime, headline: str, tickers: list[str] | None = None
) -> Document:
    """One neutral "Markets" item as the shipped model would store it."""
    return Document(
        id=doc_id,
        published_at=at,
        source="wire",
        headline=headline,
        tickers=tickers or [],
        topic_id=0,
        topic="Markets",
        topic_confidence=0.9,
        sentiment="neutral",
        p_negative=0.1,
        p_neutral=0.8,
        p_positive=0.1,
        score=0.0,
        model="finsent-minilm 1.0.0",
    )


def add_minute(settings: MonitorSettings, minute: datetime, *, items: int) -> None:
    """`items` neutral documents in `minute`, with their rollup: what the worker adds live."""
    docs = [
        neutral_document(f"live-{minute:%H%M}-{i}", minute + timedelta(seconds=i), f"Live item {i}")
        for i in range(items)
    ]
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            session.add_all(docs)
            session.add_all(minutes(docs))
        backfill_rollups(engine)
    finally:
        engine.dispose()
