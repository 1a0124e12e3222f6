"""The alert lifecycle in event time, against PostgreSQL.

Each rule has a cursor (`alert_cursors`): the end of the last window it judged. A window (one
every `step_minutes`) is judged once the watermark (newest `published_at` less the allowed
lateness) has passed its end, so a backfill of history fires exactly the alerts live traffic would
have. The cursor row is locked
while a rule is evaluated, and the partial unique index `uq_alerts_one_firing` allows one open
episode per rule and key: however many evaluators run, an episode is recorded once. Firing and
resolving write their webhook deliveries (the outbox) in the same transaction. The leader keeps
each rule's minute counts between calls (`monitor.alerting.series_cache`), so a call reads only
the newest minutes rather than the rule's whole baseline horizon.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerting import series
from monitor.alerting.detector import (
    Change,
    DetectorState,
    Evaluation,
    Transition,
    history_needed,
    judge,
    replay,
    step_floor,
)
from monitor.alerting.explain import explain
from monitor.alerting.rules import Rule
from monitor.alerting.series_cache import SeriesCache, SeriesCaches
from monitor.delivery.payload import alertmanager_body, new_webhook_id
from monitor.storage.alert_queries import headlines_by_id
from monitor.storage.models import Alert, AlertCursor, AlertDelivery
from monitor.storage.records import AlertRecord, alert_record

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outbox:
    """Where alert events go: endpoint URLs (or `kafka:TOPIC`) and the link put in bodies."""

    endpoints: tuple[str, ...]
    external_url: str


@dataclass(frozen=True, slots=True)
class Timing:
    """Event-time policy: how late data may arrive, how many evaluations one call may catch up
    on per rule, and how old an episode may have ended and still be sent (older ones, found
    when a new rule or a restart reads old history, are recorded but not notified)."""

    lateness: timedelta
    max_windows: int
    max_event_age: timedelta


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One transition the evaluator recorded."""

    transition: Transition
    alert: AlertRecord


def evaluate_rules(
    sessions: sessionmaker[Session],
    rules: Sequence[Rule],
    *,
    timing: Timing,
    outbox: Outbox,
    now: datetime | None = None,
    caches: SeriesCaches | None = None,
) -> list[AlertEvent]:
    """Judge every window that closed since the last call, rule by rule (one transaction each).

    With `caches` (the leader's), each rule reads only the minutes that can have changed since
    the previous call; without, it reads its whole baseline horizon."""
    events: list[AlertEvent] = []
    for rule in rules:
        cache = None
        if caches is not None:
            cache = caches.for_rule(rule, reread=timing.lateness + rule.window)
        with sessions.begin() as session:
            events.extend(
                evaluate_rule(
                    session=session,
                    rule=rule,
                    timing=timing,
                    outbox=outbox,
                    now=now or datetime.now(UTC),
                    cache=cache,
                )
            )
    return events


def evaluate_rule(
    *,
    session: Session,
    rule: Rule,
    timing: Timing,
    outbox: Outbox,
    now: datetime,
    cache: SeriesCache | None = None,
) -> list[AlertEvent]:
    """Advance one rule's cursor over the closed windows, recording fired and resolved alerts."""
    mark = series.watermark(session=session, lateness=timing.lateness)
    cursor = _locked_cursor(session=session, rule=rule)
    if mark is None or cursor is None:
        return []
    after = cursor.evaluated_through
    until = min(step_floor(mark, rule.step), after + timing.max_windows * rule.step)
    if until <= after:
        return []
    counts = cache if cache is not None else SeriesCache(rule)
    counts.read(session=session, since=after - history_needed(rule), until=until)
    open_alerts = _open_alerts(session=session, rule=rule)
    keys = counts.keys_since(after - rule.window) | set(open_alerts)
    cooldowns = _cooldowns(session=session, rule=rule, keys=keys)
    events: list[AlertEvent] = []
    for key in sorted(keys):
        minutes = counts.series(key)
        alert = open_alerts.get(key)
        state = (
            DetectorState(firing_since=alert.started_at, clear_streak=alert.clear_windows)
            if alert is not None
            else DetectorState(cooldown_until=cooldowns.get(key))
        )
        changes, state = replay(rule, judge(rule, minutes, after=after, until=until), state)
        for i, change in enumerate(changes):
            # An episode that fired and ended long ago is history: record it, send nothing.
            ended = changes[i + 1].evaluation.window_end if i + 1 < len(changes) else None
            stale = ended is not None and ended < now - timing.max_event_age
            alert = _apply(session=session, rule=rule, key=key, alert=alert, change=change)
            if change.transition is Transition.fired:
                alert.notified = not stale
            endpoints = outbox.endpoints if alert.notified else ()
            events.append(_emit(session, alert, change.transition, outbox, endpoints))
            alert = alert if change.transition is Transition.fired else None
        if alert is not None and alert.clear_windows != state.clear_streak:
            alert.clear_windows = state.clear_streak
            alert.updated_at = func.now()
    cursor.evaluated_through = until
    cursor.updated_at = func.now()
    session.flush()
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
        .values(rule=rule.name, evaluated_through=step_floor(first, rule.step))
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


def _apply(*, session: Session, rule: Rule, key: str, alert: Alert | None, change: Change) -> Alert:
    """Record a change: a new episode when one fired, the open one resolved otherwise."""
    if change.transition is Transition.fired or alert is None:
        return _fire(session=session, rule=rule, key=key, evaluation=change.evaluation)
    alert.status = "resolved"
    alert.resolved_at = change.evaluation.window_end
    alert.clear_windows = 0
    alert.updated_at = func.now()
    log.info("alert %d resolved at %s", alert.id, alert.resolved_at.isoformat())
    return alert


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
        observed=evaluation.observed,
        expected=evaluation.expected,
        baseline=evaluation.rate,
        deviation=evaluation.deviation,
        volume=evaluation.volume,
        explanation=explain(rule, evaluation),
        document_ids=[h.id for h in headlines],
        clear_windows=0,
        notified=True,
    )
    session.add(alert)
    session.flush()
    log.info(
        "alert %d firing: rule %s %s %r: %s",
        alert.id,
        rule.name,
        rule.dimension,
        key,
        alert.explanation,
    )
    return alert


def _emit(
    session: Session,
    alert: Alert,
    transition: Transition,
    outbox: Outbox,
    endpoints: Sequence[str],
) -> AlertEvent:
    """Record the event's deliveries, one per endpoint, in the evaluator's transaction."""
    drivers = headlines_by_id(session=session, ids=alert.document_ids)
    snapshot = alert_record(alert, tuple(drivers))
    body = alertmanager_body(snapshot, external_url=outbox.external_url)
    for endpoint in endpoints:
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
