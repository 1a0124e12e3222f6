"""The `alert_deliveries` outbox worker: send due deliveries, retry with backoff, record outcomes.

State lives in the database, so a restarted worker carries on where the last one stopped. A
delivery is claimed by pushing its `next_attempt_at` past the request timeout (a lease), sent, then
recorded: delivered, retried later (network errors, timeouts, 408, 429, 5xx, with exponential
backoff and jitter until the retry period is over), or given up (any other 4xx or 3xx). Every
attempt of a delivery carries the same `webhook-id`, so receivers can drop duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from monitor.models import AlertDelivery
from monitor.webhooks import render, signed_headers

log = logging.getLogger(__name__)

RETRYABLE_4XX = frozenset({408, 429})
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


class Sender(Protocol):
    async def __call__(self, delivery: Delivery) -> Outcome: ...


def classify(status: int, retry_after_s: float | None = None) -> Outcome:
    """What an HTTP status means for the delivery."""
    if 200 <= status < 300:
        return Outcome(OutcomeKind.delivered, status)
    if status >= 500 or status in RETRYABLE_4XX:
        return Outcome(OutcomeKind.retry, status, f"HTTP {status}", retry_after_s)
    hint = " (redirects are not followed: configure the final URL)" if status < 400 else ""
    return Outcome(OutcomeKind.failed, status, f"HTTP {status}{hint}")


def backoff_delay(attempts: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds before the next attempt, after `attempts` failed ones: exponential, capped, and
    jittered into [half, full] so receivers recovering from an outage aren't hit in lockstep."""
    ceiling = min(policy.backoff_max_s, policy.backoff_s * 2 ** max(attempts - 1, 0))
    return rng.uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header (seconds or HTTP date) in seconds, capped at one hour."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), 3600.0)


def endpoint_for_logs(endpoint: str) -> str:
    """Scheme and host only: webhook URLs often carry a token in their path."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else endpoint


class WebhookSender:
    """POSTs the signed body; a fresh timestamp and signature per attempt, the same id."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        secret: str,
        *,
        timeout_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._secret = secret
        self._timeout_s = timeout_s
        self._clock = clock

    async def __call__(self, delivery: Delivery) -> Outcome:
        body = render(delivery.payload)
        now = self._clock()
        headers = signed_headers(self._secret, delivery.webhook_id, body, now)
        try:
            response = await self._client.post(
                delivery.endpoint, content=body.encode(), headers=headers, timeout=self._timeout_s
            )
        except httpx.TimeoutException:
            return Outcome(OutcomeKind.retry, error=f"timed out after {self._timeout_s:g}s")
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}".replace(
                delivery.endpoint, endpoint_for_logs(delivery.endpoint)
            )
            return Outcome(OutcomeKind.retry, error=error[:ERROR_CHARS])
        return classify(
            response.status_code, retry_after_seconds(response.headers.get("retry-after"), now)
        )


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
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": outcome.error,
    }
    where = endpoint_for_logs(delivery.endpoint)
    if outcome.kind is OutcomeKind.delivered:
        values["delivered_at"] = now
        log.info("delivered %s %s to %s", delivery.event, delivery.webhook_id, where)
    elif outcome.kind is OutcomeKind.failed:
        values["gave_up_at"] = now
        log.error("giving up on %s to %s: %s", delivery.webhook_id, where, outcome.error)
    else:
        delay = max(backoff_delay(attempts, policy, rng), outcome.retry_after_s or 0.0)
        next_at = now + timedelta(seconds=delay)
        if next_at > delivery.created_at + policy.period:
            values["gave_up_at"] = now
            values["last_error"] = f"gave up after {attempts} attempts: {outcome.error}"
            log.error("giving up on %s to %s: %s", delivery.webhook_id, where, outcome.error)
        else:
            values["next_attempt_at"] = next_at
            log.warning(
                "delivery %s to %s failed (%s), attempt %d; retrying in %.2fs",
                delivery.webhook_id,
                where,
                outcome.error,
                attempts,
                delay,
            )
    session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery.id).values(values))


class DeliveryWorker:
    """Sends what is due through the sender registered for each endpoint's scheme."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        senders: Mapping[str, Sender],
        policy: RetryPolicy,
        *,
        batch: int = 50,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._senders = senders
        self._policy = policy
        self._batch = batch
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    async def deliver_due(self) -> int:
        """One pass: claim, send concurrently, record; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim)
        outcomes = await asyncio.gather(*(self._send(d) for d in claimed))
        await asyncio.to_thread(self._record, list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    def _claim(self) -> list[Delivery]:
        with self._sessions.begin() as session:
            return claim_due(
                session=session,
                now=datetime.now(UTC),
                lease=self._policy.lease,
                limit=self._batch,
            )

    async def _send(self, delivery: Delivery) -> Outcome:
        sender = self._senders.get(delivery.endpoint.split(":", 1)[0])
        if sender is None:
            return Outcome(OutcomeKind.retry, error="no sender for this endpoint in this process")
        try:
            return await sender(delivery)
        except Exception as e:  # a sender bug must not lose the delivery
            log.exception("sender for %s failed", endpoint_for_logs(delivery.endpoint))
            return Outcome(OutcomeKind.retry, error=f"{type(e).__name__}: {e}"[:ERROR_CHARS])

    def _record(self, results: list[tuple[Delivery, Outcome]]) -> None:
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            for delivery, outcome in results:
                record(
                    session=session,
                    delivery=delivery,
                    outcome=outcome,
                    now=now,
                    policy=self._policy,
                    rng=self._rng,
                )
