"""The `alert_deliveries` outbox: what is due, leased so one worker sends it, and each attempt's
outcome recorded (delivered, retried with exponential backoff and jitter until the retry period is
over, or given up). State lives in the database, so a restarted worker carries on where the last
one stopped; every attempt of a delivery carries the same `webhook-id`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased

from monitor.storage.models import AlertDelivery
from monitor.storage.records import mask_endpoint, redact_secrets

log = logging.getLogger(__name__)

ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert event on its way to one endpoint."""

    id: int
    alert_id: int
    event: str
    endpoint: str
    webhook_id: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


class OutcomeKind(StrEnum):
    delivered = "delivered"
    retry = "retry"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    backoff_s: float = 5.0
    backoff_max_s: float = 3600.0
    period: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(seconds=40)


def backoff_delay(attempts: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds before the next attempt, after `attempts` failed ones: exponential, capped, and
    jittered into [half, full] so receivers recovering from an outage aren't hit in lockstep."""
    ceiling = min(policy.backoff_max_s, policy.backoff_s * 2 ** max(attempts - 1, 0))
    return rng.uniform(ceiling / 2, ceiling)


def claim_due(*, session: Session, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries, leasing them so no other worker sends them meanwhile;
    an alert's resolved event waits until its firing event is done with."""
    firing = aliased(AlertDelivery)
    firing_pending = (
        select(firing.id)
        .where(
            firing.alert_id == AlertDelivery.alert_id,
            firing.endpoint == AlertDelivery.endpoint,
            firing.event == "firing",
            firing.delivered_at.is_(None),
            firing.gave_up_at.is_(None),
        )
        .exists()
    )
    due = (
        select(AlertDelivery.id)
        .where(
            AlertDelivery.delivered_at.is_(None),
            AlertDelivery.gave_up_at.is_(None),
            AlertDelivery.next_attempt_at <= now,
            # A receiver never hears "resolved" before it has heard "firing".
            or_(AlertDelivery.event == "firing", ~firing_pending),
        )
        .order_by(AlertDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.scalars(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(due))
        .values(next_attempt_at=now + lease)
        .returning(AlertDelivery)
    ).all()
    return [
        Delivery(
            r.id, r.alert_id, r.event, r.endpoint, r.webhook_id, r.payload, r.attempts, r.created_at
        )
        for r in sorted(rows, key=lambda r: r.id)
    ]


def record(
    *,
    session: Session,
    delivery: Delivery,
    outcome: Outcome,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> None:
    """Store the attempt's outcome and, when it is to be retried, when."""
    attempts = delivery.attempts + 1
    # Every sender's error is masked here, once, before it is stored or logged.
    error = None if outcome.error is None else redact_secrets(outcome.error)
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": error,
    }
    where = mask_endpoint(delivery.endpoint)
    if outcome.kind is OutcomeKind.delivered:
        values["delivered_at"] = now
        log.info("delivered %s %s to %s", delivery.event, delivery.webhook_id, where)
    elif outcome.kind is OutcomeKind.failed:
        values["gave_up_at"] = now
        log.error("giving up on %s to %s: %s", delivery.webhook_id, where, error)
    else:
        delay = max(backoff_delay(attempts, policy, rng), outcome.retry_after_s or 0.0)
        next_at = now + timedelta(seconds=delay)
        if next_at > delivery.created_at + policy.period:
            values["gave_up_at"] = now
            values["last_error"] = f"gave up after {attempts} attempts: {error}"
            log.error("giving up on %s to %s: %s", delivery.webhook_id, where, error)
        else:
            values["next_attempt_at"] = next_at
            log.warning(
                "delivery %s to %s failed (%s), attempt %d; retrying in %.2fs",
                delivery.webhook_id,
                where,
                error,
                attempts,
                delay,
            )
    session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery.id).values(values))
