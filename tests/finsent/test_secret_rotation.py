"""Webhook key rotation over real HTTP: with `FINSENT_WEBHOOK_SECRET=new,old` every delivery
verifies at a receiver holding only the old key and at one holding only the new key; a receiver
with an unrelated key rejects it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from finsent.alerter import AlerterSettings, run_alerter
from finsent.receiver import ReceivedAlert, WebhookReceiver
from monitor.alerting.settings import AlertSettings
from monitor.delivery.http import WebhookSender
from monitor.delivery.outbox import Delivery, OutcomeKind
from monitor.delivery.payload import alertmanager_body, new_webhook_id, sample_alert
from monitor.storage.models import AlertDelivery
from monitor.storage.settings import MonitorSettings
from tests.monitor.alerting.test_evaluator import BURST, RULES, query, seed

NEW = "whsec_16en4jZ0bZt2mFG4LXpC1eX4uyv2NQ4o"
OLD = "whsec_XjQA78vIVotObkjOpxT5mLazklq84cX4"
OTHER = "whsec_s2h1ScbX880PSKk0QDvGu2ufrNs6oxxZ"


@pytest.fixture
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    """Three verifying receivers (the demo's): one per key, each holding that key alone."""
    running = {
        name: WebhookReceiver(key, lambda _: None).start()
        for name, key in (("old", OLD), ("new", NEW), ("other", OTHER))
    }
    yield running
    for receiver in running.values():
        receiver.stop()


async def test_the_same_delivery_verifies_with_the_old_key_and_with_the_new_one(
    receivers: dict[str, WebhookReceiver],
) -> None:
    now = datetime.now(UTC)
    body = alertmanager_body(sample_alert(now), external_url="http://dash")
    delivery = Delivery(1, 1, "firing", "", new_webhook_id(), body, 0, now)
    secrets = AlertSettings(webhook_secret=f"{NEW},{OLD}").signing_secrets()
    async with httpx.AsyncClient() as client:
        send = WebhookSender(client, secrets, timeout_s=5)
        outcomes = {
            name: await send(replace(delivery, endpoint=receiver.url))
            for name, receiver in receivers.items()
        }
    assert {name: (o.kind, o.status) for name, o in outcomes.items()} == {
        "old": (OutcomeKind.delivered, 204),
        "new": (OutcomeKind.delivered, 204),
        "other": (OutcomeKind.failed, 401),
    }
    expected = [ReceivedAlert(delivery.webhook_id, "firing", receivers["old"].received[0].summary)]
    assert receivers["old"].received == receivers["new"].received == expected
    assert (receivers["old"].rejected, receivers["new"].rejected) == (0, 0)
    assert (receivers["other"].received, receivers["other"].rejected) == ([], 1)


@pytest.mark.integration
def test_the_alerter_signs_every_delivery_with_every_secret(
    database: MonitorSettings, tmp_path: Path, receivers: dict[str, WebhookReceiver]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    seed(database, range(BURST[1]))  # a burst that fires, no recovery yet
    alerts = AlertSettings(
        rules=rules,
        webhook_urls=tuple(r.url for r in receivers.values()),
        webhook_secret=f"{NEW} {OLD}",
        alert_interval_s=0.2,
        webhook_timeout_s=2,
        alert_max_event_age_s=3650 * 86400,  # the seeded history is weeks old
    )
    stop = threading.Event()
    settings = AlerterSettings(monitor=database, alerts=alerts, stream=None)
    alerter = threading.Thread(target=run_alerter, args=(settings, stop), daemon=True)
    alerter.start()
    try:
        _wait_for(lambda: all(r.received or r.rejected for r in receivers.values()))
        time.sleep(0.5)  # nothing else may follow
    finally:
        stop.set()
        alerter.join(timeout=15)
    assert not alerter.is_alive()
    for name in ("old", "new"):
        (received,) = receivers[name].received
        assert received.status == "firing" and receivers[name].rejected == 0
    assert (receivers["other"].received, receivers["other"].rejected) == ([], 1)
    deliveries = {d.endpoint: d for d in query(database, select(AlertDelivery))}
    assert deliveries[receivers["other"].url].last_status == 401
    assert deliveries[receivers["other"].url].gave_up_at is not None
    assert all(deliveries[receivers[n].url].delivered_at is not None for n in ("old", "new"))


def _wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
