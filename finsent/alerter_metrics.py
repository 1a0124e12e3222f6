"""The alerter's Prometheus metrics, in a registry of their own per run: counters fed by what
the evaluator and the delivery worker report, gauges refreshed from `monitor.alerting.status`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from finsent.health import Health, Probe, kafka_probe, postgres_probe
from finsent.observability import MetricsSettings, exposed
from monitor.alerting.detector import Transition
from monitor.alerting.evaluator import AlertEvent
from monitor.alerting.rules import Rule
from monitor.alerting.status import AlerterStatus, alerter_status
from monitor.delivery.outbox import Delivery, Outcome, OutcomeKind
from stream.settings import StreamSettings


def serve_alerter_metrics(
    settings: MetricsSettings | None,
    engine: Engine,
    stream: StreamSettings | None,
    metrics: AlerterMetrics,
) -> AbstractAsyncContextManager[Health | None]:
    """The alerter's endpoint on `FINSENT_ALERTER_METRICS_PORT`; ready while PostgreSQL (and
    Kafka, when it publishes there) answer."""
    probes: dict[str, Probe] = {"postgres": postgres_probe(engine)}
    if stream is not None:
        probes["kafka"] = kafka_probe(stream)
    return exposed(
        settings.metrics_address if settings else "",
        settings.alerter_metrics_port if settings else 0,
        setting="FINSENT_ALERTER_METRICS_PORT",
        registry=metrics.registry,
        probes=probes,
    )


class AlerterMetrics:
    """One alerter run's metrics; every configured rule's series exists from the start, at 0."""

    def __init__(self, rules: Iterable[str]) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.evaluations = Counter(
            "finsent_alerter_evaluations",
            "Evaluation passes over all rules (leader only)",
            registry=self.registry,
        )
        self.evaluation_seconds = Histogram(
            "finsent_alerter_evaluation_seconds",
            "Time of one evaluation pass",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.fired = self._per_rule("alerts_fired", "Alert episodes fired", rules)
        self.resolved = self._per_rule("alerts_resolved", "Alert episodes resolved", rules)
        self.attempts = Counter(
            "finsent_alerter_delivery_attempts",
            "Delivery attempts by outcome: delivered, retry (failed, tried again) or failed",
            ["outcome"],
            registry=self.registry,
        )
        for kind in OutcomeKind:
            self.attempts.labels(kind.value)
        self.pending = self._gauge("outbox_pending", "Deliveries not yet delivered nor given up")
        self.given_up = self._gauge("outbox_given_up", "Deliveries given up on, ever")
        self.oldest_pending = self._gauge(
            "outbox_oldest_pending_seconds", "Age of the oldest pending delivery (0: none)"
        )
        self.lag = Gauge(
            "finsent_alerter_rule_lag_seconds",
            "Event time a rule's cursor trails the watermark (up to one step is normal)",
            ["rule"],
            registry=self.registry,
        )
        self.leader = self._gauge("leader", "1 while this replica holds the leader lock")

    def evaluated(self, events: Sequence[AlertEvent], seconds: float) -> None:
        self.evaluations.inc()
        self.evaluation_seconds.observe(seconds)
        for event in events:
            fired = event.transition is Transition.fired
            (self.fired if fired else self.resolved).labels(event.alert.rule).inc()

    def attempted(self, delivery: Delivery, outcome: Outcome) -> None:
        self.attempts.labels(outcome.kind.value).inc()

    def leading(self, leads: bool) -> None:
        self.leader.set(1 if leads else 0)

    def refresh_from(
        self, sessions: sessionmaker[Session], rules: Sequence[Rule], lateness: timedelta
    ) -> None:
        """Read the outbox and the rule cursors, and set the gauges (blocking: call in a thread)."""
        with sessions() as session:
            status = alerter_status(
                session=session, rules=rules, lateness=lateness, now=datetime.now(UTC)
            )
        self.refresh(status)

    def refresh(self, status: AlerterStatus) -> None:
        self.pending.set(status.outbox.pending)
        self.given_up.set(status.outbox.given_up)
        self.oldest_pending.set(status.outbox.oldest_pending_s)
        for rule, seconds in status.lag_s.items():
            self.lag.labels(rule).set(seconds)

    def _per_rule(self, name: str, documentation: str, rules: Iterable[str]) -> Counter:
        counter = Counter(
            f"finsent_alerter_{name}", documentation, ["rule"], registry=self.registry
        )
        for rule in rules:
            counter.labels(rule)
        return counter

    def _gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(f"finsent_alerter_{name}", documentation, registry=self.registry)
