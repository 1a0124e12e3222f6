"""Read-only queries about alert episodes and their webhook deliveries, for the dashboard.

Every function takes the session as a keyword argument and never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.models import Alert, AlertDelivery
from monitor.queries import TimeRange


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    rule: str
    dimension: str
    key: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    window_start: datetime
    window_end: datetime
    metric: str
    observed: float
    baseline: float
    deviation: float
    volume: int
    document_ids: tuple[str, ...]
    expected: float | None = None  # None on alerts from before counts were judged
    explanation: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One webhook delivery; `endpoint` is raw here: mask it before showing it."""

    id: int
    alert_id: int
    event: str
    endpoint: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    gave_up_at: datetime | None
    last_status: int | None
    last_error: str | None


def _alert_row(alert: Alert) -> AlertRow:
    return AlertRow(
        id=alert.id,
        rule=alert.rule,
        dimension=alert.dimension,
        key=alert.key,
        status=alert.status,
        started_at=alert.started_at,
        resolved_at=alert.resolved_at,
        window_start=alert.window_start,
        window_end=alert.window_end,
        metric=alert.metric,
        observed=alert.observed,
        baseline=alert.baseline,
        deviation=alert.deviation,
        volume=alert.volume,
        document_ids=tuple(alert.document_ids or ()),
        expected=alert.expected,
        explanation=alert.explanation,
    )


def alerts(
    *, session: Session, time_range: TimeRange | None = None, firing_only: bool = False
) -> list[AlertRow]:
    """Alert episodes overlapping `time_range` (all when None), newest first."""
    stmt = select(Alert).order_by(Alert.started_at.desc(), Alert.id.desc())
    if time_range is not None:
        stmt = stmt.where(Alert.started_at < time_range.until)
        stmt = stmt.where((Alert.resolved_at.is_(None)) | (Alert.resolved_at >= time_range.since))
    if firing_only:
        stmt = stmt.where(Alert.status == "firing")
    return [_alert_row(alert) for alert in session.scalars(stmt)]


def alert(*, session: Session, alert_id: int) -> AlertRow | None:
    found = session.get(Alert, alert_id)
    return _alert_row(found) if found is not None else None


def deliveries(*, session: Session, alert_id: int) -> list[DeliveryRow]:
    """Every webhook delivery of one alert, in the order they were created."""
    stmt = (
        select(AlertDelivery)
        .where(AlertDelivery.alert_id == alert_id)
        .order_by(AlertDelivery.created_at, AlertDelivery.id)
    )
    return [
        DeliveryRow(
            id=d.id,
            alert_id=d.alert_id,
            event=d.event,
            endpoint=d.endpoint,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            gave_up_at=d.gave_up_at,
            last_status=d.last_status,
            last_error=d.last_error,
        )
        for d in session.scalars(stmt)
    ]
