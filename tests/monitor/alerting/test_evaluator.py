"""Alerts end to end: PostgreSQL history, the alerter loop, a real HTTP receiver, the real broker.

Until the stream worker writes them, the tests seed `documents` and `sentiment_minute` directly, the
same rows the worker writes: minute buckets of `published_at`, dimension `topic`, key = topic name.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from standardwebhooks import Webhook

from finsent.alerter import AlerterSettings, run_alerter
from monitor.alerting.backtest import backtest
from monitor.alerting.evaluator import Outbox, Timing, evaluate_rules
from monitor.alerting.rules import load_rules
from monitor.alerting.series import watermark
from monitor.alerting.series_cache import SeriesCaches
from monitor.alerting.settings import AlertSettings
from monitor.storage.models import Alert, AlertCursor, AlertDelivery, Document
from monitor.storage.rollup_models import SentimentMinute
from monitor.storage.settings import MonitorSettings
from stream.broker import free_port
from stream.kafka import open_consumer
from stream.settings import StreamSettings

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
HISTORY_MIN = 180  # three hours of quiet traffic
BURST = (180, 195)  # then fifteen minutes of bad news on Earnings
END_MIN = 240
RULES = """
[[rules]]
name = "topic-negative-share"
scope = "topic"
window_minutes = 5
metric = "negative_share"
baseline_windows = 24
min_baseline_windows = 12
false_alarms_per_100_days = 1
min_delta = 0.2
min_volume = 20
cooldown_minutes = 0
resolve_threshold = 1.5
resolve_windows = 2
headlines = 3
"""


# --- data ---------------------------------------------------------------------------------------


def _documents(minute: int, topic: str, burst: bool) -> list[dict[str, Any]]:
    """Eight documents a minute; two or three negative, seven during a burst."""
    at = T0 + timedelta(minutes=minute)
    negatives = 7 if burst else 2 + (minute * 7 + len(topic)) % 2
    rows = []
    for j in range(8):
        negative = j < negatives
        shock = burst and negative
        p_neg = (0.9 + j / 100) if shock else (0.6 if negative else 0.1)
        p_pos = 0.05 if negative else 0.6
        rows.append(
            {
                "id": f"{topic}-{minute}-{j}",
                "published_at": at + timedelta(seconds=j * 7),
                "source": "wire",
                "headline": f"{topic}: profit warning shock {minute}-{j}"
                if shock
                else f"{topic}: routine update {minute}-{j}",
                "tickers": [],
                "topic_id": 5 if topic == "Earnings" else 14,
                "topic": topic,
                "topic_confidence": 0.9,
                "sentiment": "negative" if negative else "neutral",
                "p_negative": p_neg,
                "p_neutral": 1 - p_neg - p_pos,
                "p_positive": p_pos,
                "score": p_pos - p_neg,
                "model": "test",
            }
        )
    return rows


def seed(
    settings: MonitorSettings,
    minutes: range,
    bursts: tuple[tuple[str, int, int], ...] = (("Earnings", *BURST),),
) -> None:
    """Documents and their per-minute rollups for both topics, as the worker writes them;
    `bursts` are (topic, first minute, end minute) of bad news."""

    def in_burst(topic: str, minute: int) -> bool:
        return any(t == topic and first <= minute < end for t, first, end in bursts)

    docs = [
        d
        for m in minutes
        for topic in ("Earnings", "Macro")
        for d in _documents(m, topic, in_burst(topic, m))
    ]
    rollup: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for d in docs:
        minute = d["published_at"].replace(second=0)
        for dimension, key in (("all", ""), ("topic", d["topic"])):
            row = rollup.setdefault(
                (dimension, key, minute),
                {"dimension": dimension, "key": key, "minute": minute}
                | {"n_negative": 0, "n_neutral": 0, "n_positive": 0, "score_sum": 0.0},
            )
            row[f"n_{d['sentiment']}"] += 1
            row["score_sum"] += d["score"]
    engine = create_engine(settings.sqlalchemy_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(insert(Document), docs)
        conn.execute(insert(SentimentMinute), list(rollup.values()))
    engine.dispose()


# --- a real HTTP receiver -------------------------------------------------------------------------


@dataclass
class Receiver:
    """Records every request; answers with the queued statuses first, then 200."""

    port: int
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body, status in self.requests if status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port()).start()
    yield running
    running.stop()


# --- the alerter ----------------------------------------------------------------------------------


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return path


def alerter_settings(
    database: MonitorSettings,
    rules_file: Path,
    urls: list[str],
    stream: StreamSettings | None = None,
) -> AlerterSettings:
    alerts = AlertSettings(
        rules=rules_file,
        webhook_urls=tuple(urls),
        webhook_secret=SECRET,
        alert_interval_s=0.2,
        alert_lateness_s=60,
        webhook_timeout_s=2,
        webhook_backoff_s=0.05,
        webhook_backoff_max_s=0.2,
        alert_max_event_age_s=3650 * 86400,  # the seeded history is weeks old
    )
    return AlerterSettings(monitor=database, alerts=alerts, stream=stream)


@pytest.fixture
def start_alerter() -> Iterator[Callable[[AlerterSettings], threading.Event]]:
    running: list[tuple[threading.Event, threading.Thread]] = []

    def start(settings: AlerterSettings) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=run_alerter, args=(settings, stop), daemon=True)
        thread.start()
        running.append((stop, thread))
        return stop

    yield start
    for stop, _ in running:
        stop.set()
    for _, thread in running:
        thread.join(timeout=15)
        assert not thread.is_alive()


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def query(database: MonitorSettings, statement: Any) -> list[Any]:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return list(session.scalars(statement))
    finally:
        engine.dispose()


def timing(max_windows: int, max_event_age: timedelta = timedelta(days=3650)) -> Timing:
    return Timing(timedelta(seconds=60), max_windows, max_event_age)


def cursor_at(database: MonitorSettings) -> datetime | None:
    rows = query(database, select(AlertCursor.evaluated_through))
    return rows[0] if rows else None


# --- tests ----------------------------------------------------------------------------------------


def test_burst_fires_one_signed_webhook_then_resolves(
    database: MonitorSettings,
    rules_file: Path,
    receiver: Receiver,
    stream_settings: StreamSettings,
    start_alerter: Callable[[AlerterSettings], threading.Event],
) -> None:
    seed(database, range(HISTORY_MIN))  # the backfilled baseline
    start_alerter(alerter_settings(database, rules_file, [receiver.url], stream_settings))
    # The newest item is at 10:59:49; less a minute of lateness, windows up to 10:58 are judged.
    wait_for(lambda: cursor_at(database) == T0 + timedelta(minutes=HISTORY_MIN - 2))
    assert receiver.requests == []

    seed(database, range(HISTORY_MIN, END_MIN))  # the burst and the recovery arrive live
    wait_for(lambda: len(receiver.requests) >= 2)
    time.sleep(0.6)  # nothing else may follow
    assert len(receiver.requests) == 2
    (firing_headers, firing_body, _), (resolved_headers, resolved_body, _) = receiver.requests
    firing = Webhook(SECRET).verify(firing_body, firing_headers)
    resolved = Webhook(SECRET).verify(resolved_body, resolved_headers)
    assert firing_headers["webhook-signature"].startswith("v1,")
    assert firing_headers["webhook-id"] != resolved_headers["webhook-id"]

    assert firing["version"] == "4" and firing["status"] == "firing"
    (alert,) = firing["alerts"]
    assert alert["labels"]["alertname"] == "topic-negative-share"
    assert alert["labels"]["key"] == "Earnings"
    # Judged every minute, it fires before the burst fills a whole window (4.5 extra negatives a
    # minute on 8 items: the fourth minute of it is the first past the threshold).
    fired_at = datetime.fromisoformat(alert["annotations"]["window_end"])
    burst_at = T0 + timedelta(minutes=BURST[0])
    assert fired_at == burst_at + timedelta(minutes=4)
    assert alert["startsAt"] == alert["annotations"]["window_start"]
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    headlines = alert["annotations"]["headlines"].splitlines()
    assert len(headlines) == 3 and all("profit warning shock" in h for h in headlines)
    observed, expected = (float(alert["annotations"][k]) for k in ("observed", "expected"))
    assert observed > 2 * expected and float(alert["annotations"]["baseline"]) < 0.4
    assert alert["annotations"]["summary"].startswith(
        f"Negative news spike on topic Earnings: {observed:.0f} of 40 items negative in the "
        "last 5 min; "
    )
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["fingerprint"] == alert["fingerprint"]
    assert resolved["alerts"][0]["endsAt"] > alert["startsAt"]

    (stored,) = query(database, select(Alert))
    assert (stored.status, stored.key, stored.volume) == ("resolved", "Earnings", 40)
    assert stored.document_ids == alert["annotations"]["document_ids"].split(",")
    assert all(i.startswith("Earnings-18") for i in stored.document_ids)
    deliveries = query(database, select(AlertDelivery))
    assert all(d.delivered_at is not None for d in deliveries)
    assert {d.endpoint for d in deliveries} == {
        receiver.url,
        f"kafka:{stream_settings.topic_alerts}",
    }

    # The same history replayed lists the same episode.
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    with Session(engine) as session:
        episodes = backtest(
            session=session,
            rules=load_rules(rules_file),
            since=T0,
            until=T0 + timedelta(minutes=END_MIN),
        )
    engine.dispose()
    assert [(e.key, e.started_at, e.resolved_at) for e in episodes] == [
        ("Earnings", stored.started_at, stored.resolved_at)
    ]

    async def published() -> list[dict[str, Any]]:
        async with open_consumer(
            stream_settings, stream_settings.topic_alerts, auto_offset_reset="earliest"
        ) as consumer:
            batches = await consumer.getmany(timeout_ms=5000, max_records=10)
            return [json.loads(r.value) for records in batches.values() for r in records]

    events = asyncio.run(published())
    assert sorted(e["status"] for e in events) == ["firing", "resolved"]


def test_retries_carry_the_same_webhook_id_until_accepted(
    database: MonitorSettings,
    rules_file: Path,
    receiver: Receiver,
    start_alerter: Callable[[AlerterSettings], threading.Event],
) -> None:
    seed(database, range(BURST[1]))  # no recovery yet: a firing alert only
    receiver.statuses[:] = [500, 500, 500]
    start_alerter(alerter_settings(database, rules_file, [receiver.url]))
    wait_for(lambda: len(receiver.accepted()) == 1)
    time.sleep(0.6)
    statuses = [status for _, _, status in receiver.requests]
    ids = {headers["webhook-id"] for headers, _, _ in receiver.requests}
    assert statuses == [500, 500, 500, 200]
    assert len(ids) == 1
    (delivery,) = query(database, select(AlertDelivery))
    assert (delivery.attempts, delivery.last_status) == (4, 200)


def test_a_receiver_down_for_longer_gets_it_after_a_restart(
    database: MonitorSettings,
    rules_file: Path,
    start_alerter: Callable[[AlerterSettings], threading.Event],
) -> None:
    seed(database, range(BURST[1]))
    down = Receiver(free_port())  # nothing listens yet
    first = start_alerter(alerter_settings(database, rules_file, [down.url]))
    wait_for(lambda: (query(database, select(func.max(AlertDelivery.attempts)))[0] or 0) >= 3)
    first.set()  # the alerter stops while the receiver is down...
    time.sleep(0.5)
    down.start()  # ...the receiver comes back, and so does an alerter
    try:
        start_alerter(alerter_settings(database, rules_file, [down.url]))
        wait_for(lambda: len(down.accepted()) == 1)
        time.sleep(0.5)
        assert len(down.requests) == 1
        (delivery,) = query(database, select(AlertDelivery))
        assert delivery.attempts >= 3 and delivery.delivered_at is not None
        assert len(query(database, select(Alert))) == 1
    finally:
        down.stop()


def test_a_client_error_stops_retrying_and_is_recorded(
    database: MonitorSettings,
    rules_file: Path,
    receiver: Receiver,
    start_alerter: Callable[[AlerterSettings], threading.Event],
) -> None:
    seed(database, range(BURST[1]))
    receiver.statuses[:] = [410]
    start_alerter(alerter_settings(database, rules_file, [receiver.url]))
    wait_for(lambda: bool(query(database, select(AlertDelivery.gave_up_at))[:1] != [None]))
    time.sleep(0.5)
    assert len(receiver.requests) == 1
    (delivery,) = query(database, select(AlertDelivery))
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (1, 410, "HTTP 410")


def test_two_alerters_give_one_alert(
    database: MonitorSettings,
    rules_file: Path,
    receiver: Receiver,
    start_alerter: Callable[[AlerterSettings], threading.Event],
) -> None:
    seed(database, range(END_MIN))
    start_alerter(alerter_settings(database, rules_file, [receiver.url]))
    start_alerter(alerter_settings(database, rules_file, [receiver.url]))
    wait_for(lambda: len(receiver.requests) >= 2)
    time.sleep(0.6)
    assert [json.loads(body)["status"] for _, body, _ in receiver.requests] == [
        "firing",
        "resolved",
    ]
    assert len(query(database, select(Alert))) == 1


def test_concurrent_evaluators_without_the_lock_still_record_one_episode(
    database: MonitorSettings, rules_file: Path
) -> None:
    seed(database, range(END_MIN))
    engine = create_engine(database.sqlalchemy_url, pool_size=8)
    sessions = sessionmaker(engine, expire_on_commit=False)
    rules = load_rules(rules_file)
    outbox = Outbox(("http://127.0.0.1:9/hook",), "http://127.0.0.1:8501")

    def evaluate() -> None:
        evaluate_rules(sessions, rules, timing=timing(7), outbox=outbox)

    threads = [threading.Thread(target=lambda: [evaluate() for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    alerts = query(database, select(Alert))
    assert [(a.key, a.status) for a in alerts] == [("Earnings", "resolved")]
    assert len(query(database, select(AlertDelivery))) == 2


def test_a_document_from_the_future_does_not_close_windows(database: MonitorSettings) -> None:
    seed(database, range(10))
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    future = datetime.now(UTC) + timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            insert(Document),
            [_documents(0, "Macro", False)[0] | {"id": "x", "published_at": future}],
        )
    with Session(engine) as session:
        mark = watermark(session=session, lateness=timedelta(seconds=60))
    engine.dispose()
    assert mark is not None and mark < datetime.now(UTC)


@pytest.mark.parametrize("kept", [False, True], ids=["full reads", "kept minute counts"])
def test_evaluating_bit_by_bit_as_data_arrives_fires_what_a_backtest_finds(
    database: MonitorSettings, rules_file: Path, kept: bool
) -> None:
    bursts = (("Earnings", 180, 195), ("Macro", 200, 210), ("Earnings", 250, 262))
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    sessions = sessionmaker(engine, expire_on_commit=False)
    rules = load_rules(rules_file)
    outbox = Outbox((), "http://127.0.0.1:8501")
    caches = SeriesCaches(full_read_every=timedelta(days=1)) if kept else None
    for first in range(0, 300, 17):  # data arrives in uneven slices; evaluation runs after each
        seed(database, range(first, min(first + 17, 300)), bursts)
        for _ in range(2):
            evaluate_rules(sessions, rules, timing=timing(20), outbox=outbox, caches=caches)
    for _ in range(30):
        evaluate_rules(sessions, rules, timing=timing(20), outbox=outbox, caches=caches)
    with Session(engine) as session:
        live = [
            (a.key, a.started_at, a.resolved_at)
            for a in session.scalars(select(Alert).order_by(Alert.started_at))
        ]
        replayed = backtest(
            session=session, rules=rules, since=T0, until=T0 + timedelta(minutes=300)
        )
    engine.dispose()
    assert [e.key for e in replayed] == ["Earnings", "Macro", "Earnings"]
    assert all(e.resolved_at is not None for e in replayed)
    assert live == [(e.key, e.started_at, e.resolved_at) for e in replayed]


def test_an_episode_that_ended_long_ago_is_recorded_but_not_sent(
    database: MonitorSettings, rules_file: Path
) -> None:
    engine = create_engine(database.sqlalchemy_url, poolclass=NullPool)
    sessions = sessionmaker(engine, expire_on_commit=False)
    outbox = Outbox(("http://127.0.0.1:9/hook",), "http://127.0.0.1:8501")
    recent = timing(1000, max_event_age=timedelta(hours=1))
    now = T0 + timedelta(minutes=BURST[1] + 30)  # the burst's own episode is still recent
    seed(database, range(BURST[1]))
    evaluate_rules(sessions, load_rules(rules_file), timing=recent, outbox=outbox, now=now)
    seed(database, range(BURST[1], END_MIN))
    evaluate_rules(sessions, load_rules(rules_file), timing=recent, outbox=outbox, now=now)
    # A rule added three days later reads the same history: its episode fired and ended long
    # ago, so it is recorded without a webhook.
    (rule,) = load_rules(rules_file)
    added = rule.model_copy(update={"name": "added-later"})
    later = now + timedelta(days=3)
    evaluate_rules(sessions, [added], timing=recent, outbox=outbox, now=later)
    engine.dispose()
    alerts = query(database, select(Alert).order_by(Alert.id))
    deliveries = query(database, select(AlertDelivery).order_by(AlertDelivery.id))
    assert [(a.rule, a.status, a.notified) for a in alerts] == [
        ("topic-negative-share", "resolved", True),
        ("added-later", "resolved", False),
    ]
    assert [(d.alert_id, d.event) for d in deliveries] == [
        (alerts[0].id, "firing"),
        (alerts[0].id, "resolved"),
    ]
