"""The alerter's metrics as the loop feeds them: counters from reported events and outcomes,
gauges from a status read; each run has its own registry, so these numbers are exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from finsent.alerter_metrics import AlerterMetrics
from monitor.alerting.detector import Transition
from monitor.alerting.evaluator import AlertEvent
from monitor.alerting.status import AlerterStatus, OutboxBacklog
from monitor.delivery.outbox import Delivery, Outcome, OutcomeKind
from monitor.delivery.payload import sample_alert

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def value(metrics: AlerterMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_every_rule_and_outcome_has_a_series_from_the_start() -> None:
    metrics = AlerterMetrics(["a", "b"])
    for rule in ("a", "b"):
        assert value(metrics, "finsent_alerter_alerts_fired_total", rule=rule) == 0
        assert value(metrics, "finsent_alerter_alerts_resolved_total", rule=rule) == 0
    for outcome in ("delivered", "retry", "failed"):
        assert value(metrics, "finsent_alerter_delivery_attempts_total", outcome=outcome) == 0
    assert value(metrics, "finsent_alerter_leader") == 0


def test_evaluations_count_fired_and_resolved_by_rule() -> None:
    metrics = AlerterMetrics(["finsent-test", "other"])
    alert = sample_alert(NOW)
    metrics.evaluated([], 0.02)
    metrics.evaluated(
        [
            AlertEvent(Transition.fired, alert),
            AlertEvent(Transition.resolved, replace(alert, status="resolved")),
            AlertEvent(Transition.fired, alert),
        ],
        0.3,
    )
    assert value(metrics, "finsent_alerter_evaluations_total") == 2
    assert value(metrics, "finsent_alerter_evaluation_seconds_count") == 2
    assert value(metrics, "finsent_alerter_alerts_fired_total", rule="finsent-test") == 2
    assert value(metrics, "finsent_alerter_alerts_resolved_total", rule="finsent-test") == 1
    assert value(metrics, "finsent_alerter_alerts_fired_total", rule="other") == 0


def test_attempts_count_by_outcome() -> None:
    metrics = AlerterMetrics([])
    delivery = Delivery(1, 1, "firing", "http://x/hook", "msg_1", {}, 0, NOW)
    for kind in (OutcomeKind.retry, OutcomeKind.retry, OutcomeKind.delivered):
        metrics.attempted(delivery, Outcome(kind))
    assert value(metrics, "finsent_alerter_delivery_attempts_total", outcome="retry") == 2
    assert value(metrics, "finsent_alerter_delivery_attempts_total", outcome="delivered") == 1
    assert value(metrics, "finsent_alerter_delivery_attempts_total", outcome="failed") == 0


def test_gauges_follow_the_latest_status_and_leadership() -> None:
    metrics = AlerterMetrics(["a"])
    metrics.refresh(AlerterStatus(OutboxBacklog(3, 1, 42.5), {"a": 60.0}))
    metrics.leading(True)
    assert value(metrics, "finsent_alerter_outbox_pending") == 3
    assert value(metrics, "finsent_alerter_outbox_given_up") == 1
    assert value(metrics, "finsent_alerter_outbox_oldest_pending_seconds") == 42.5
    assert value(metrics, "finsent_alerter_rule_lag_seconds", rule="a") == 60
    assert value(metrics, "finsent_alerter_leader") == 1
    metrics.refresh(AlerterStatus(OutboxBacklog(0, 1, 0.0), {"a": 0.0}))
    metrics.leading(False)
    assert value(metrics, "finsent_alerter_outbox_pending") == 0
    assert value(metrics, "finsent_alerter_rule_lag_seconds", rule="a") == 0
    assert value(metrics, "finsent_alerter_leader") == 0


def test_two_runs_count_apart() -> None:
    first, second = AlerterMetrics(["a"]), AlerterMetrics(["a"])
    first.evaluated([], 0.1)
    assert value(second, "finsent_alerter_evaluations_total") == 0
