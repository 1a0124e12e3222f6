"""The alerter process: rule evaluation and webhook/Kafka delivery, leader-only, in one loop.

`run_alerter` is the whole process as a function of its settings and a stop event, so
`finsent alerter` and the demo run the same code. Every replica may run it: a PostgreSQL advisory
lock makes one of them the leader; the others wait and take over if the leader's connection goes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from finsent.alerter_metrics import AlerterMetrics, serve_alerter_metrics
from finsent.observability import MetricsSettings
from monitor.alerting.evaluator import AlertEvent, Outbox, Timing, evaluate_rules
from monitor.alerting.leader import LeaderLock
from monitor.alerting.retention_job import RetentionJob
from monitor.alerting.rules import Rule, load_rules
from monitor.alerting.series_cache import SeriesCaches
from monitor.alerting.settings import AlertSettings
from monitor.delivery.http import WebhookSender
from monitor.delivery.kafka import KafkaSender
from monitor.delivery.outbox import RetryPolicy
from monitor.delivery.worker import DeliveryWorker, Sender
from monitor.storage.db import check_connection, error_summary, make_engine, make_sessionmaker
from monitor.storage.retention import RetentionPolicy
from monitor.storage.settings import MonitorSettings
from stream.kafka import ensure_topics, open_producer
from stream.settings import StreamSettings

log = logging.getLogger(__name__)

LOCK_NAME = "finsent.alerter"
KAFKA_SCHEME = "kafka"
DELIVERY_POLL_S = 1.0


@dataclass(frozen=True, slots=True)
class AlerterSettings:
    """Everything the alerter needs; `stream` None: no publishing to Kafka; `metrics` None: no
    /metrics, /healthz and /readyz endpoint."""

    monitor: MonitorSettings
    alerts: AlertSettings
    stream: StreamSettings | None
    metrics: MetricsSettings | None = None


def endpoints(settings: AlerterSettings) -> tuple[str, ...]:
    kafka = () if settings.stream is None else (f"{KAFKA_SCHEME}:{settings.stream.topic_alerts}",)
    return (*settings.alerts.webhook_urls, *kafka)


def retry_policy(settings: AlertSettings) -> RetryPolicy:
    return RetryPolicy(
        backoff_s=settings.webhook_backoff_s,
        backoff_max_s=settings.webhook_backoff_max_s,
        period=timedelta(seconds=settings.webhook_retry_period_s),
        lease=timedelta(seconds=settings.webhook_timeout_s + 30),
    )


def run_alerter(settings: AlerterSettings, stop: threading.Event) -> None:
    """Run until `stop` is set. Raises on bad rules or settings before doing anything."""
    asyncio.run(run_alerter_async(settings, stop))


async def run_alerter_async(settings: AlerterSettings, stop: threading.Event) -> None:
    rules = load_rules(settings.alerts.rules)
    secrets = settings.alerts.signing_secrets() if settings.alerts.webhook_urls else ()
    engine = make_engine(settings.monitor)
    lock = LeaderLock(engine, LOCK_NAME)
    metrics = AlerterMetrics(rule.name for rule in rules)
    try:
        check_connection(engine)
        sessions = make_sessionmaker(engine)
        async with (
            serve_alerter_metrics(settings.metrics, engine, settings.stream, metrics),
            _senders(settings, secrets) as senders,
        ):
            policy = retry_policy(settings.alerts)
            worker = DeliveryWorker(sessions, senders, policy, on_outcome=metrics.attempted)
            log.info("alerter running %d rules, %d endpoints", len(rules), len(endpoints(settings)))
            await _loop(settings, rules, lock, sessions, worker, stop, metrics)
    finally:
        await asyncio.to_thread(lock.release)
        engine.dispose()


@asynccontextmanager
async def _senders(
    settings: AlerterSettings, secrets: tuple[str, ...]
) -> AsyncIterator[dict[str, Sender]]:
    async with AsyncExitStack() as stack:
        senders: dict[str, Sender] = {}
        if secrets:  # empty when no webhook endpoints are configured
            client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
            webhook = WebhookSender(client, secrets, timeout_s=settings.alerts.webhook_timeout_s)
            senders.update(http=webhook, https=webhook)
        if settings.stream is not None:
            await ensure_topics(settings.stream, [settings.stream.topic_alerts])
            producer = await stack.enter_async_context(open_producer(settings.stream))
            senders[KAFKA_SCHEME] = KafkaSender(
                producer, timeout_s=settings.alerts.webhook_timeout_s
            )
        yield senders


async def _loop(
    settings: AlerterSettings,
    rules: tuple[Rule, ...],
    lock: LeaderLock,
    sessions: sessionmaker[Session],
    worker: DeliveryWorker,
    stop: threading.Event,
    metrics: AlerterMetrics,
) -> None:
    outbox = Outbox(endpoints(settings), settings.alerts.alerts_external_url)
    lateness = timing(settings.alerts).lateness
    interval = settings.alerts.alert_interval_s
    poll = min(interval, DELIVERY_POLL_S)
    clock = asyncio.get_running_loop().time
    next_evaluation = clock()
    retention = RetentionJob(sessions, RetentionPolicy.of(settings.monitor), rules)
    # The rules' minute counts, kept only while this process leads: a standby holds none, and a
    # new leader (or one whose database connection failed) starts again with full reads.
    caches = SeriesCaches(full_read_every=timedelta(seconds=settings.alerts.alert_full_read_s))
    while not stop.is_set():
        try:
            leads = await asyncio.to_thread(lock.held)
            metrics.leading(leads)
            if leads:
                if clock() >= next_evaluation:
                    next_evaluation = clock() + interval
                    await asyncio.to_thread(
                        _evaluate, settings, rules, sessions, outbox, metrics, caches
                    )
                while await worker.deliver_due() and not stop.is_set():
                    pass
                await asyncio.to_thread(retention.run_due)  # a slice, when a daily prune is due
            else:
                caches.clear()
            await asyncio.to_thread(metrics.refresh_from, sessions, rules, lateness)
        except DBAPIError as e:
            metrics.leading(False)  # without the database no replica can act as the leader
            caches.clear()
            log.warning("database unavailable, retrying: %s", error_summary(e))
        await asyncio.to_thread(stop.wait, poll)


def _evaluate(
    settings: AlerterSettings,
    rules: tuple[Rule, ...],
    sessions: sessionmaker[Session],
    outbox: Outbox,
    metrics: AlerterMetrics,
    caches: SeriesCaches,
) -> list[AlertEvent]:
    started = time.perf_counter()
    events = evaluate_rules(
        sessions, rules, timing=timing(settings.alerts), outbox=outbox, caches=caches
    )
    metrics.evaluated(events, time.perf_counter() - started)
    return events


def timing(settings: AlertSettings) -> Timing:
    return Timing(
        lateness=timedelta(seconds=settings.alert_lateness_s),
        max_windows=settings.alert_max_windows,
        max_event_age=timedelta(seconds=settings.alert_max_event_age_s),
    )
