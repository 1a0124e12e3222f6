"""Negative-spike detection on per-window series: pure functions, no I/O.

A series is a dense list of tumbling windows (`WindowCounts`), oldest first. `evaluate` judges one
window against the trailing windows before it; `advance` moves the episode state machine (quiet →
firing → quiet, with hysteresis and cooldown) by one evaluated window; `replay` and `detect` run
both over a whole series. The live evaluator, the backtest and the tests all use these, so a
backfill of history fires exactly what live traffic would have.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from monitor.alerting.rules import BaselineMethod, Metric, Rule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAD_TO_SIGMA = 1.4826
# Per-document spread of the score (p_positive - p_negative), for the mean-score noise floor.
SCORE_SIGMA = 0.7
SCALE_FLOOR = {Metric.negative_share: 0.01, Metric.negative_count: 1.0, Metric.mean_score: 0.01}


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Documents of one window (or minute) by sentiment class, and the sum of their scores."""

    start: datetime
    n_negative: int = 0
    n_neutral: int = 0
    n_positive: int = 0
    score_sum: float = 0.0

    @property
    def volume(self) -> int:
        return self.n_negative + self.n_neutral + self.n_positive


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One closed window judged against its baseline."""

    window_start: datetime
    window_end: datetime
    volume: int
    observed: float | None
    baseline: float | None
    deviation: float | None
    hot: bool
    clear: bool


@dataclass(frozen=True, slots=True)
class DetectorState:
    """Where a rule stands for one key between windows."""

    firing_since: datetime | None = None
    clear_streak: int = 0
    cooldown_until: datetime | None = None

    @property
    def firing(self) -> bool:
        return self.firing_since is not None


class Transition(StrEnum):
    fired = "firing"
    resolved = "resolved"


@dataclass(frozen=True, slots=True)
class Episode:
    """An alert as the detector sees it: the window that fired it, the window that resolved it."""

    started_at: datetime
    fired: Evaluation
    resolved_at: datetime | None = None


def window_start(moment: datetime, window: timedelta) -> datetime:
    """Start of the clock-aligned window (UTC, from the epoch) that holds `moment`."""
    return moment - (moment - EPOCH) % window


def metric_value(metric: Metric, counts: WindowCounts) -> float | None:
    """The metric of one window; None where it is undefined (shares and means of nothing)."""
    if metric is Metric.negative_count:
        return float(counts.n_negative)
    if counts.volume == 0:
        return None
    if metric is Metric.negative_share:
        return counts.n_negative / counts.volume
    return counts.score_sum / counts.volume


def baseline_of(method: BaselineMethod, values: Sequence[float]) -> tuple[float, float]:
    """Centre and robust spread (in standard deviations) of the trailing values, oldest first."""
    if method is BaselineMethod.median_mad:
        centre = statistics.median(values)
        mad = statistics.median(abs(v - centre) for v in values)
        return centre, MAD_TO_SIGMA * mad
    alpha = 2.0 / (len(values) + 1)
    mean, variance = values[0], 0.0
    for value in values[1:]:
        delta = value - mean
        mean += alpha * delta
        variance = (1 - alpha) * (variance + alpha * delta * delta)
    return mean, math.sqrt(variance)


def noise_floor(metric: Metric, centre: float, volume: int) -> float:
    """The spread sampling alone gives a window of `volume` documents, so quiet series don't
    turn a handful of documents into a huge deviation."""
    if metric is Metric.negative_share:
        p = min(max(centre, 0.01), 0.99)
        sampling = math.sqrt(p * (1 - p) / max(volume, 1))
    elif metric is Metric.negative_count:
        sampling = math.sqrt(max(centre, 1.0))
    else:
        sampling = SCORE_SIGMA / math.sqrt(max(volume, 1))
    return max(sampling, SCALE_FLOOR[metric])


def evaluate(rule: Rule, history: Sequence[WindowCounts], current: WindowCounts) -> Evaluation:
    """Judge `current` against `history` (the windows before it, oldest first; only the last
    `rule.baseline_windows` count)."""
    trailing = history[-rule.baseline_windows :]
    past = [v for v in (metric_value(rule.metric, w) for w in trailing) if v is not None]
    observed = metric_value(rule.metric, current)
    end = current.start + rule.window
    if observed is None or len(past) < rule.min_baseline_windows:
        return Evaluation(current.start, end, current.volume, observed, None, None, False, True)
    centre, spread = baseline_of(rule.baseline, past)
    scale = max(spread, noise_floor(rule.metric, centre, current.volume))
    # Bad news raises shares and counts and lowers the mean score: measure towards "bad".
    effect = (centre - observed) if rule.metric is Metric.mean_score else (observed - centre)
    deviation = effect / scale
    enough = current.volume >= rule.min_volume
    hot = enough and deviation >= rule.threshold and effect >= rule.min_delta
    clear = not enough or deviation < rule.resolve_threshold
    return Evaluation(current.start, end, current.volume, observed, centre, deviation, hot, clear)


def advance(
    rule: Rule, state: DetectorState, evaluation: Evaluation
) -> tuple[DetectorState, Transition | None]:
    """The state after one more window, and the transition it caused, if any."""
    if state.firing:
        if not evaluation.clear:
            return replace(state, clear_streak=0), None
        streak = state.clear_streak + 1
        if streak < rule.resolve_windows:
            return replace(state, clear_streak=streak), None
        quiet = DetectorState(cooldown_until=evaluation.window_end + rule.cooldown)
        return quiet, Transition.resolved
    cooling = state.cooldown_until is not None and evaluation.window_start < state.cooldown_until
    if evaluation.hot and not cooling:
        return replace(
            state, firing_since=evaluation.window_start, clear_streak=0
        ), Transition.fired
    return state, None


def densify(
    rule: Rule, counts: Sequence[WindowCounts], start: datetime, end: datetime
) -> list[WindowCounts]:
    """Every window from `start` to `end` (exclusive), empty where `counts` has none; counts
    of minutes or of windows are summed into the windows that hold them."""
    merged: dict[datetime, WindowCounts] = {}
    for c in counts:
        at = window_start(c.start, rule.window)
        if start <= at < end:
            prior = merged.get(at, WindowCounts(at))
            merged[at] = WindowCounts(
                at,
                prior.n_negative + c.n_negative,
                prior.n_neutral + c.n_neutral,
                prior.n_positive + c.n_positive,
                prior.score_sum + c.score_sum,
            )
    windows: list[WindowCounts] = []
    at = window_start(start, rule.window)
    while at < end:
        windows.append(merged.get(at, WindowCounts(at)))
        at += rule.window
    return windows


def replay(
    rule: Rule,
    windows: Sequence[WindowCounts],
    *,
    evaluate_from: datetime | None = None,
    state: DetectorState | None = None,
) -> Iterator[tuple[Evaluation, DetectorState, Transition | None]]:
    """Evaluate each window from `evaluate_from` on (earlier ones only feed the baseline)."""
    current = state or DetectorState()
    for i, window in enumerate(windows):
        if evaluate_from is not None and window.start < evaluate_from:
            continue
        history = windows[max(0, i - rule.baseline_windows) : i]
        evaluation = evaluate(rule, history, window)
        current, transition = advance(rule, current, evaluation)
        yield evaluation, current, transition


def detect(rule: Rule, windows: Sequence[WindowCounts]) -> list[Episode]:
    """Every episode in a dense series, the last one open if it had not resolved by the end."""
    episodes: list[Episode] = []
    for evaluation, _, transition in replay(rule, windows):
        if transition is Transition.fired:
            episodes.append(Episode(evaluation.window_start, evaluation))
        elif transition is Transition.resolved:
            episodes[-1] = replace(episodes[-1], resolved_at=evaluation.window_end)
    return episodes
