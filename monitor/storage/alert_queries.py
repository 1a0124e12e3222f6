"""Read-only queries about alert episodes and their webhook deliveries (dashboard and CLI).

Every function takes the session as a keyword argument and never writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.exceptions import AlertNotFound
from monitor.storage.models import Alert, AlertDelivery, Document
from monitor.storage.queries import TimeRange
from monitor.storage.records import (
    AlertRecord,
    DeliveryRecord,
    Headline,
    alert_record,
    delivery_record,
    headline_of,
)


def alerts(
    *,
    session: Session,
    time_range: TimeRange | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[AlertRecord]:
    """Alert episodes overlapping `time_range` (all when None), newest first."""
    stmt = select(Alert).order_by(Alert.started_at.desc(), Alert.id.desc()).limit(limit)
    if time_range is not None:
        stmt = stmt.where(Alert.started_at < time_range.until)
        stmt = stmt.where((Alert.resolved_at.is_(None)) | (Alert.resolved_at >= time_range.since))
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    return [alert_record(a) for a in session.scalars(stmt)]


def alert(*, session: Session, alert_id: int, with_headlines: bool = False) -> AlertRecord | None:
    """One alert; with the headlines that drove it when asked."""
    found = session.get(Alert, alert_id)
    if found is None:
        return None
    drivers = headlines_by_id(session=session, ids=found.document_ids) if with_headlines else []
    return alert_record(found, tuple(drivers))


def require_alert(*, session: Session, alert_id: int) -> AlertRecord:
    """`alert` with its headlines, or `AlertNotFound` saying where the ids are."""
    found = alert(session=session, alert_id=alert_id, with_headlines=True)
    if found is None:
        raise AlertNotFound(f"no alert {alert_id}; `finsent alerts list` shows the ids")
    return found


def deliveries(*, session: Session, alert_id: int) -> list[DeliveryRecord]:
    """Every webhook delivery of one alert, in the order they were created."""
    stmt = (
        select(AlertDelivery)
        .where(AlertDelivery.alert_id == alert_id)
        .order_by(AlertDelivery.created_at, AlertDelivery.id)
    )
    return [delivery_record(d) for d in session.scalars(stmt)]


def headlines_by_id(*, session: Session, ids: Sequence[str]) -> list[Headline]:
    """The stored items with these ids, in the order given (missing ones left out)."""
    if not ids:
        return []
    found = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
    return [headline_of(found[i]) for i in ids if i in found]
