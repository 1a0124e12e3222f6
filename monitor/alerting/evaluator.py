"""The alert lifecycle in event time, against PostgreSQL.

Each rule has a cursor (`alert_cursors`): the end of the last window it judged. A window is judged
once the watermark (newest `published_at` less the allowed lateness) has passed its end, so a
backfill of history fires exactly the alerts live traffic would have. The cursor row is locked
while a rule is evaluated, and the partial unique index `uq_alerts_one_firing` allows one open
episode per rule and key: however many evaluators run, an episode is recorded once. Firing and
resolving write their webhook deliveries (the outbox) in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerting import series
from monitor.alerting.detector import (
    DetectorState,
    Evaluation,
    Transition,
    WindowCounts,
    densify,
    replay,
    window_start,
)
from monitor.alerting.rules import Rule
from monitor.models import Alert, AlertCursor, AlertDelivery
from monitor.webhooks import AlertSnapshot, Headline, alertmanager_body, new_webhook_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outbox:
    """Where alert events go: endpoint URLs (or `kafka:TOPIC`) and the link put in bodies."""

    endpoints: tuple[str, ...]
    external_url: str


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One transition the evaluator recorded."""

    transition: Transition
    alert: AlertSnapshot


def evaluate_rules(
    sessions: sessionmaker[Session],
    rules: Sequence[Rule],
    *,
    lateness: timedelta,
    outbox: Outbox,
    max_windows: int,
) -> list[AlertEvent]:
    """Judge every window that closed since the last call, rule by rule (one transaction each)."""
    events: list[AlertEvent] = []
    for rule in rules:
        with sessions.begin() as session:
            events.extend(
                evaluate_rule(
                    session=session,
                    rule=rule,
                    lateness=lateness,
                    outbox=outbox,
                    max_windows=max_windows,
                )
            )
    return events


def evaluate_rule(
    *, session: Session, rule: Rule, lateness: timedelta, outbox: Outbox, max_windows: int
) -> list[AlertEvent]:
    """Advance one rule's cursor over the closed windows, recording fired and resolved alerts."""
    mark = series.watermark(session=session, lateness=lateness)
    cursor = _locked_cursor(session=session, rule=rule)
    if mark is None or cursor is None:
        return []
    until = min(
        window_start(mark, rule.window), cursor.evaluated_through + max_windows * rule.window
    )
    if until <= cursor.evaluated_through:
        return []
    start = cursor.evaluated_through
    history_from = start - rule.baseline_windows * rule.window
    counts = series.window_counts(session=session, rule=rule, since=history_from, until=until)
    open_alerts = _open_alerts(session=session, rule=rule)
    keys = {k for k, ws in counts.items() if ws and ws[-1].start >= start} | set(open_alerts)
    cooldowns = _cooldowns(session=session, rule=rule, keys=keys)
    events: list[AlertEvent] = []
    for key in sorted(keys):
        windows = densify(rule, counts.get(key, []), history_from, until)
        events.extend(
            _evaluate_key(
                session=session,
                rule=rule,
                key=key,
                windows=windows,
                start=start,
                alert=open_alerts.get(key),
                cooldown_until=cooldowns.get(key),
                outbox=outbox,
            )
        )
    cursor.evaluated_through = until
    cursor.updated_at = func.now()
    session.flush()
    return events


def _evaluate_key(
    *,
    session: Session,
    rule: Rule,
    key: str,
    windows: Sequence[WindowCounts],
    start: datetime,
    alert: Alert | None,
    cooldown_until: datetime | None,
    outbox: Outbox,
) -> list[AlertEvent]:
    """Replay one key's closed windows from `start`, continuing from its stored state."""
    state = (
        DetectorState(firing_since=alert.started_at, clear_streak=alert.clear_windows)
        if alert is not None
        else DetectorState(cooldown_until=cooldown_until)
    )
    events: list[AlertEvent] = []
    for evaluation, after, transition in replay(rule, windows, evaluate_from=start, state=state):
        state = after
        if transition is Transition.fired:
            alert = _fire(session=session, rule=rule, key=key, evaluation=evaluation)
            events.append(_emit(session, alert, Transition.fired, outbox))
        elif transition is Transition.resolved and alert is not None:
            _resolve(alert, evaluation)
            events.append(_emit(session, alert, Transition.resolved, outbox))
            alert = None
    if alert is not None and alert.clear_windows != state.clear_streak:
        alert.clear_windows = state.clear_streak
        alert.updated_at = func.now()
    return events


def _locked_cursor(*, session: Session, rule: Rule) -> AlertCursor | None:
    """The rule's cursor, locked for this transaction; created at the first window with data."""
    locked = select(AlertCursor).where(AlertCursor.rule == rule.name).with_for_update()
    cursor = session.scalars(locked).one_or_none()
    if cursor is not None:
        return cursor
    first = series.first_minute(session=session, dimension=rule.dimension)
    if first is None:
        return None
    session.execute(
        insert(AlertCursor)
        .values(rule=rule.name, evaluated_through=window_start(first, rule.window))
        .on_conflict_do_nothing(index_elements=[AlertCursor.rule])
    )
    return session.scalars(locked).one()


def _open_alerts(*, session: Session, rule: Rule) -> dict[str, Alert]:
    query = select(Alert).where(
        Alert.rule == rule.name, Alert.dimension == rule.dimension, Alert.status == "firing"
    )
    return {a.key: a for a in session.scalars(query)}


def _cooldowns(*, session: Session, rule: Rule, keys: set[str]) -> dict[str, datetime]:
    """Per key, the end of the cooldown after its last resolved episode."""
    if not keys:
        return {}
    query = (
        select(Alert.key, func.max(Alert.resolved_at))
        .where(Alert.rule == rule.name, Alert.dimension == rule.dimension, Alert.key.in_(keys))
        .where(Alert.resolved_at.is_not(None))
        .group_by(Alert.key)
    )
    return {
        key: resolved + rule.cooldown
        for key, resolved in session.execute(query)
        if resolved is not None
    }


def _fire(*, session: Session, rule: Rule, key: str, evaluation: Evaluation) -> Alert:
    headlines = series.driving_headlines(
        session=session,
        dimension=rule.dimension,
        key=key,
        since=evaluation.window_start,
        until=evaluation.window_end,
        limit=rule.headlines,
    )
    alert = Alert(
        rule=rule.name,
        dimension=rule.dimension,
        key=key,
        status="firing",
        started_at=evaluation.window_start,
        window_start=evaluation.window_start,
        window_end=evaluation.window_end,
        metric=str(rule.metric),
        observed=evaluation.observed or 0.0,
        baseline=evaluation.baseline or 0.0,
        deviation=evaluation.deviation or 0.0,
        volume=evaluation.volume,
        document_ids=[h.document_id for h in headlines],
        clear_windows=0,
    )
    session.add(alert)
    session.flush()
    log.info(
        "alert %d firing: rule %s %s %r, %s %.3g vs baseline %.3g (%.1f), %d documents",
        alert.id,
        rule.name,
        rule.dimension,
        key,
        rule.metric,
        alert.observed,
        alert.baseline,
        alert.deviation,
        alert.volume,
    )
    return alert


def _resolve(alert: Alert, evaluation: Evaluation) -> None:
    alert.status = "resolved"
    alert.resolved_at = evaluation.window_end
    alert.clear_windows = 0
    alert.updated_at = func.now()
    log.info("alert %d resolved at %s", alert.id, evaluation.window_end.isoformat())


def _emit(session: Session, alert: Alert, transition: Transition, outbox: Outbox) -> AlertEvent:
    """Record the event's deliveries, one per endpoint, in the evaluator's transaction."""
    snapshot = snapshot_of(alert, series.headlines_by_id(session=session, ids=alert.document_ids))
    body = alertmanager_body(snapshot, external_url=outbox.external_url)
    for endpoint in outbox.endpoints:
        session.add(
            AlertDelivery(
                alert_id=alert.id,
                event=str(transition),
                endpoint=endpoint,
                webhook_id=new_webhook_id(),
                payload=body,
            )
        )
    session.flush()
    return AlertEvent(transition, snapshot)


def snapshot_of(alert: Alert, headlines: Sequence[Headline]) -> AlertSnapshot:
    """The boundary value for one alert row."""
    return AlertSnapshot(
        id=alert.id,
        rule=alert.rule,
        dimension=alert.dimension,
        key=alert.key,
        status=alert.status,
        metric=alert.metric,
        started_at=alert.started_at,
        resolved_at=alert.resolved_at,
        window_start=alert.window_start,
        window_end=alert.window_end,
        observed=alert.observed,
        baseline=alert.baseline,
        deviation=alert.deviation,
        volume=alert.volume,
        headlines=tuple(headlines),
    )
