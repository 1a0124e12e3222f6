"""Replay rules over stored history: what would have fired, without recording or sending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.alerting import series
from monitor.alerting.detector import (
    Evaluation,
    Transition,
    WindowCounts,
    densify,
    replay,
    window_start,
)
from monitor.alerting.rules import Rule


@dataclass(frozen=True, slots=True)
class BacktestEpisode:
    """An episode the rules would have produced."""

    rule: str
    dimension: str
    key: str
    started_at: datetime
    resolved_at: datetime | None
    fired: Evaluation


def backtest(
    *, session: Session, rules: Sequence[Rule], since: datetime, until: datetime
) -> list[BacktestEpisode]:
    """Episodes of windows in [since, until), each rule starting quiet at `since`; the windows
    before `since` feed the baseline only. Ordered by start, then rule and key."""
    found: list[BacktestEpisode] = []
    for rule in rules:
        start = window_start(since, rule.window)
        end = window_start(until, rule.window)
        history_from = start - rule.baseline_windows * rule.window
        counts = series.window_counts(session=session, rule=rule, since=history_from, until=end)
        for key, minutes in sorted(counts.items()):
            windows = densify(rule, minutes, history_from, end)
            found.extend(_episodes(rule, key, windows, start))
    return sorted(found, key=lambda e: (e.started_at, e.rule, e.key))


def _episodes(
    rule: Rule, key: str, windows: Sequence[WindowCounts], start: datetime
) -> list[BacktestEpisode]:
    episodes: list[BacktestEpisode] = []
    for evaluation, _, transition in replay(rule, windows, evaluate_from=start):
        if transition is Transition.fired:
            episode = BacktestEpisode(
                rule.name, rule.dimension, key, evaluation.window_start, None, evaluation
            )
            episodes.append(episode)
        elif transition is Transition.resolved:
            last = episodes[-1]
            episodes[-1] = BacktestEpisode(
                last.rule,
                last.dimension,
                last.key,
                last.started_at,
                evaluation.window_end,
                last.fired,
            )
    return episodes
