"""Replay rules over stored history: what would have fired, without recording or sending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.alerting import series
from monitor.alerting.detector import Evaluation, Series, detect, history_needed, step_floor
from monitor.alerting.explain import explain
from monitor.alerting.rules import Rule


@dataclass(frozen=True, slots=True)
class BacktestEpisode:
    """An episode the rules would have produced, with the evaluation that fired it."""

    rule: str
    dimension: str
    key: str
    started_at: datetime
    resolved_at: datetime | None
    fired: Evaluation
    explanation: str


def backtest(
    *, session: Session, rules: Sequence[Rule], since: datetime, until: datetime
) -> list[BacktestEpisode]:
    """Episodes of windows ending in (since, until], each rule starting quiet at `since`; the
    windows before feed the baseline only. Ordered by start, then rule and key."""
    found: list[BacktestEpisode] = []
    for rule in rules:
        after, end = step_floor(since, rule.step), step_floor(until, rule.step)
        history_from = after - history_needed(rule)
        counts = series.minute_counts(session=session, rule=rule, since=history_from, until=end)
        for key, minutes in sorted(counts.items()):
            episodes = detect(
                rule, Series.from_minutes(minutes, history_from, end), after=after, until=end
            )
            found.extend(
                BacktestEpisode(
                    rule.name,
                    rule.dimension,
                    key,
                    e.started_at,
                    e.resolved_at,
                    e.fired,
                    explain(rule, e.fired),
                )
                for e in episodes
            )
    return sorted(found, key=lambda e: (e.started_at, e.rule, e.key))
