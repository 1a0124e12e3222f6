"""Reading alerts and their deliveries back, for the CLI and anyone else who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerting import series
from monitor.alerting.evaluator import snapshot_of
from monitor.exceptions import AlertNotFound
from monitor.models import Alert, AlertDelivery
from monitor.webhooks import AlertSnapshot


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """Where one alert event stands with one endpoint."""

    event: str
    endpoint: str
    webhook_id: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    gave_up_at: datetime | None
    last_status: int | None
    last_error: str | None

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        return "gave up" if self.gave_up_at is not None else "pending"


def list_alerts(*, session: Session, status: str | None, limit: int) -> list[AlertSnapshot]:
    """The newest alerts first, without headlines."""
    query = select(Alert).order_by(Alert.started_at.desc(), Alert.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Alert.status == status)
    return [snapshot_of(a, ()) for a in session.scalars(query)]


def get_alert(*, session: Session, alert_id: int) -> tuple[AlertSnapshot, list[DeliveryRecord]]:
    """One alert with its driving headlines and every delivery of it."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}; `finsent alerts list` shows the ids")
    headlines = series.headlines_by_id(session=session, ids=alert.document_ids)
    deliveries = session.scalars(
        select(AlertDelivery).where(AlertDelivery.alert_id == alert_id).order_by(AlertDelivery.id)
    )
    records = [
        DeliveryRecord(
            d.event,
            d.endpoint,
            d.webhook_id,
            d.attempts,
            d.next_attempt_at,
            d.delivered_at,
            d.gave_up_at,
            d.last_status,
            d.last_error,
        )
        for d in deliveries
    ]
    return snapshot_of(alert, headlines), records
