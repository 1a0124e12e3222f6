"""Retention with the alert rules in mind: the series floor they need, and the daily prune.

The alerter's leader prunes once a day. When the last run finished is stamped as the cursor
`RETENTION_CURSOR` in `alert_cursors` (a name no rule can have), so a new leader knows too. A
run goes in slices of about `SLICE_S` seconds, so evaluation and delivery keep their pace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerting.detector import history_needed
from monitor.alerting.rules import Rule
from monitor.exceptions import PruneFailed
from monitor.storage.models import AlertCursor
from monitor.storage.retention import Cutoffs, PruneReport, RetentionPolicy, prune

log = logging.getLogger(__name__)

# Rule names start with a letter or digit, so this cursor can never be a rule's.
RETENTION_CURSOR = ":retention"
PRUNE_EVERY = timedelta(days=1)
SLICE_S = 1.0
RETRY_AFTER_S = 3600.0
RECHECK_S = 600.0  # how often an idle job looks whether another leader ran it meanwhile


def series_floor(*, session: Session, rules: Sequence[Rule], now: datetime) -> datetime | None:
    """The oldest minute a rule may still read: its cursor less its baseline and window.

    A rule without a cursor yet counts from `now`; None when there are no rules.
    """
    if not rules:
        return None
    names = [r.name for r in rules]
    stmt = select(AlertCursor.rule, AlertCursor.evaluated_through).where(
        AlertCursor.rule.in_(names)
    )
    cursors: dict[str, datetime] = {name: at for name, at in session.execute(stmt)}
    return min(min(now, cursors.get(r.name, now)) - history_needed(r) for r in rules)


def cutoffs(
    sessions: sessionmaker[Session], policy: RetentionPolicy, rules: Sequence[Rule], now: datetime
) -> Cutoffs:
    """The policy's cutoffs at `now`, the series one held back for the rules."""
    with sessions() as session:
        floor = series_floor(session=session, rules=rules, now=now)
    return policy.cutoffs(now, floor)


def prune_now(
    sessions: sessionmaker[Session],
    policy: RetentionPolicy,
    rules: Sequence[Rule],
    *,
    now: datetime,
    dry_run: bool = False,
) -> PruneReport:
    """One whole prune (what `finsent db prune` runs); raises `PruneFailed` on a failed batch."""
    found = cutoffs(sessions, policy, rules, now)
    return prune(sessions, found, batch_rows=policy.batch_rows, dry_run=dry_run)


def last_run(*, session: Session) -> datetime | None:
    stmt = select(AlertCursor.evaluated_through).where(AlertCursor.rule == RETENTION_CURSOR)
    return session.scalar(stmt)


def _stamp(*, session: Session, at: datetime) -> None:
    stmt = insert(AlertCursor).values(rule=RETENTION_CURSOR, evaluated_through=at)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[AlertCursor.rule],
            set_={"evaluated_through": at, "updated_at": func.now()},
        )
    )


class RetentionJob:
    """Prunes once every `every`, a slice per `run_due` call, on the caller's (leader's) turn."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: RetentionPolicy,
        rules: Sequence[Rule],
        *,
        every: timedelta = PRUNE_EVERY,
        slice_s: float = SLICE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._policy = policy
        self._rules = tuple(rules)
        self._every = every
        self._slice_s = slice_s
        self._clock = clock
        self._idle_until = 0.0
        self._run: tuple[datetime, Cutoffs] | None = None  # started at, cutoffs of the run
        self._done: PruneReport | None = None

    def run_due(self, now: datetime | None = None) -> PruneReport | None:
        """Prune one slice when a run is due or under way; the totals when a run finishes."""
        if not self._policy.enabled or self._clock() < self._idle_until:
            return None
        run = self._run or self._start(now or datetime.now(UTC))
        if run is None:
            return None
        started, found = self._run = run
        deadline = self._clock() + self._slice_s
        try:
            report = prune(
                self._sessions,
                found,
                batch_rows=self._policy.batch_rows,
                deadline=deadline,
                clock=self._clock,
            )
        except PruneFailed as e:
            log.warning("retention: %s; next try in %.0f min", e, RETRY_AFTER_S / 60)
            self._rest(RETRY_AFTER_S)
            return None
        done = report if self._done is None else self._done.plus(report)
        self._done = done
        if not report.complete:
            return None
        with self._sessions.begin() as session:
            _stamp(session=session, at=started)
        deleted = ", ".join(f"{t.rows} {t.table}" for t in done.tables if t.cutoff is not None)
        log.info("retention: deleted %s", deleted)
        self._rest(min(self._every.total_seconds(), RECHECK_S))
        return done

    def _start(self, now: datetime) -> tuple[datetime, Cutoffs] | None:
        """A new run's start and cutoffs when one is due, else None (and idle a while)."""
        with self._sessions() as session:
            last = last_run(session=session)
        if last is not None and now - last < self._every:
            wait = (last + self._every - now).total_seconds()
            self._idle_until = self._clock() + min(wait, RECHECK_S)
            return None
        self._done = None
        return now, cutoffs(self._sessions, self._policy, self._rules, now)

    def _rest(self, seconds: float) -> None:
        self._run = None
        self._done = None
        self._idle_until = self._clock() + seconds
