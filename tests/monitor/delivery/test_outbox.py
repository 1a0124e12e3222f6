"""Delivery decisions without a network: which answers are retried, and when."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.delivery.http import classify, retry_after_seconds
from monitor.delivery.outbox import OutcomeKind, RetryPolicy, backoff_delay
from monitor.storage.records import mask_endpoint


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, OutcomeKind.delivered),
        (204, OutcomeKind.delivered),
        (408, OutcomeKind.retry),
        (429, OutcomeKind.retry),
        (500, OutcomeKind.retry),
        (503, OutcomeKind.retry),
        (400, OutcomeKind.failed),
        (401, OutcomeKind.failed),
        (404, OutcomeKind.failed),
        (301, OutcomeKind.failed),
    ],
)
def test_classify(status: int, kind: OutcomeKind) -> None:
    assert classify(status).kind is kind


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_s=5, backoff_max_s=60)
    rng = random.Random(1)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (12, 60)]:
        delays = [backoff_delay(attempts, policy, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_retry_after() -> None:
    now = datetime(2026, 11, 2, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds("Mon, 02 Nov 2026 00:01:00 GMT", now) == 60
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("999999", now) == 3600
    assert retry_after_seconds(None, now + timedelta(0)) is None


def test_endpoints_in_logs_hide_their_path() -> None:
    url = "https://hooks.slack.com/services/T000/B000/secret-token"
    assert mask_endpoint(url) == "https://hooks.slack.com/…"
