"""The alerter's backlog as numbers, for its metrics: the outbox, and each rule's cursor behind
the watermark. Three small queries, cheap enough to run every loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.alerting import series
from monitor.alerting.rules import Rule
from monitor.storage.models import AlertCursor, AlertDelivery


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Deliveries still to send, given up on, and how long the oldest unsent one has waited."""

    pending: int
    given_up: int
    oldest_pending_s: float


@dataclass(frozen=True, slots=True)
class AlerterStatus:
    outbox: OutboxBacklog
    # Per rule with a cursor: event-time seconds its cursor trails the watermark.
    lag_s: dict[str, float]


def alerter_status(
    *, session: Session, rules: Sequence[Rule], lateness: timedelta, now: datetime
) -> AlerterStatus:
    return AlerterStatus(
        outbox_backlog(session=session, now=now),
        rule_lag(session=session, rules=rules, lateness=lateness),
    )


def outbox_backlog(*, session: Session, now: datetime) -> OutboxBacklog:
    pending = AlertDelivery.delivered_at.is_(None) & AlertDelivery.gave_up_at.is_(None)
    counts = select(
        func.count().filter(pending),
        func.count().filter(AlertDelivery.gave_up_at.is_not(None)),
        func.min(AlertDelivery.created_at).filter(pending),
    )
    n_pending, n_given_up, oldest = session.execute(counts).one()
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxBacklog(int(n_pending), int(n_given_up), waited)


def rule_lag(*, session: Session, rules: Sequence[Rule], lateness: timedelta) -> dict[str, float]:
    """How far each rule's cursor trails the watermark; a rule with no cursor yet (no data for
    its dimension) is left out. Up to one step behind is normal: only whole steps are judged."""
    mark = series.watermark(session=session, lateness=lateness)
    if mark is None or not rules:
        return {}
    names = [r.name for r in rules]
    cursors = session.execute(
        select(AlertCursor.rule, AlertCursor.evaluated_through).where(AlertCursor.rule.in_(names))
    )
    return {rule: max(0.0, (mark - through).total_seconds()) for rule, through in cursors}
