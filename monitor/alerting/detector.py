"""Negative-spike detection on per-minute series: pure functions, no I/O.

Every `step_minutes` a rule judges the trailing window of `window_minutes` against the
`baseline_windows` windows of the same length just before it (`monitor.alerting.evidence` says
how), so a burst is caught in its first minutes rather than at the next window boundary.
`judge` scores a whole stretch of a series at once; `replay` moves the episode state machine
(quiet -> firing -> quiet, with hysteresis and cooldown) over the judged windows. The live
evaluator, the backtest, `bench/bench_detection.py` and the tests all go through these two, so a
backfill of history fires exactly what live traffic would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from monitor.alerting import evidence
from monitor.alerting.rules import Metric, Rule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MinuteCounts:
    """Documents of one minute (or any bucket) by sentiment class, and the sum of their scores."""

    minute: datetime
    n_negative: int = 0
    n_neutral: int = 0
    n_positive: int = 0
    score_sum: float = 0.0


@dataclass(frozen=True, slots=True)
class Series:
    """One key's counts, one entry per minute from `start`; minutes before `first` (the first
    with any document) are treated as not yet watched, not as quiet."""

    start: datetime
    negative: Floats
    volume: Floats
    polar: Floats  # negative + positive, for the spread of scores
    score: Floats
    first: int

    @classmethod
    def from_minutes(
        cls, minutes: Sequence[MinuteCounts], start: datetime, end: datetime
    ) -> Series:
        """Dense minutes in [start, end); counts outside are ignored, repeats are summed."""
        offsets = np.array([(m.minute - start) // MINUTE for m in minutes], dtype=np.int64)
        counts = np.array(
            [(m.n_negative, m.n_neutral, m.n_positive) for m in minutes], dtype=np.int64
        ).reshape(-1, 3)
        score = np.array([m.score_sum for m in minutes], dtype=np.float64)
        return cls.from_columns(start, end, offsets, counts, score)

    @classmethod
    def from_columns(
        cls,
        start: datetime,
        end: datetime,
        offsets: NDArray[np.integer[Any]],
        counts: NDArray[np.integer[Any]],
        score: Floats,
    ) -> Series:
        """`from_minutes` for rows given as columns: each row's minute as an offset from `start`,
        its (negative, neutral, positive) counts and its score sum."""
        size = max(int((end - start) / MINUTE), 0)
        inside = (offsets >= 0) & (offsets < size)
        at, c = offsets[inside], counts[inside].astype(np.int64)
        arrays = np.zeros((4, size))
        # add.at sums repeats in row order, as adding row by row would.
        for row, values in enumerate((c[:, 0], c.sum(axis=1), c[:, 0] + c[:, 2], score[inside])):
            np.add.at(arrays[row], at, values)
        seen = np.flatnonzero(arrays[1] > 0)
        first = int(seen[0]) if seen.size else size
        return cls(start, arrays[0], arrays[1], arrays[2], arrays[3], first)

    def minute_at(self, index: int) -> datetime:
        return self.start + index * MINUTE


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One trailing window judged against its baseline (see `evidence.Evidence` for units)."""

    window_start: datetime
    window_end: datetime
    volume: int
    observed: float
    expected: float
    rate: float
    deviation: float
    hot: bool
    clear: bool


@dataclass(frozen=True, slots=True)
class Judgement:
    """Every window of a stretch judged at once: arrays indexed like `ends` (minute indices of
    the series where each window ends)."""

    series_start: datetime
    window: timedelta
    ends: NDArray[np.int64]
    volume: Floats
    facts: evidence.Evidence
    hot: NDArray[np.bool_]
    clear: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.ends.size)

    def at(self, i: int) -> Evaluation:
        end = self.series_start + int(self.ends[i]) * MINUTE
        f = self.facts
        return Evaluation(
            end - self.window,
            end,
            int(self.volume[i]),
            float(f.observed[i]),
            float(f.expected[i]),
            float(f.rate[i]),
            float(f.z[i]),
            bool(self.hot[i]),
            bool(self.clear[i]),
        )


@dataclass(frozen=True, slots=True)
class DetectorState:
    """Where a rule stands for one key between evaluations."""

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
class Change:
    """A transition and the evaluation that caused it."""

    transition: Transition
    evaluation: Evaluation


@dataclass(frozen=True, slots=True)
class Episode:
    """An alert as the detector sees it: the evaluation that fired it, when it resolved."""

    fired: Evaluation
    resolved_at: datetime | None = None

    @property
    def started_at(self) -> datetime:
        return self.fired.window_start


def step_floor(moment: datetime, step: timedelta) -> datetime:
    """The latest step boundary (UTC, from the epoch) at or before `moment`."""
    return moment - (moment - EPOCH) % step


def history_needed(rule: Rule) -> timedelta:
    """How far before the first window end to evaluate the counts must reach."""
    return (rule.baseline_windows + 1) * rule.window


def judge(rule: Rule, series: Series, *, after: datetime, until: datetime) -> Judgement:
    """Judge every window whose end is a step boundary in (after, until]."""
    first_end = step_floor(after, rule.step) + rule.step
    ends = np.arange(
        int((first_end - series.start) / MINUTE),
        int((until - series.start) / MINUTE) + 1,
        int(rule.step / MINUTE),
        dtype=np.int64,
    )
    width = int(rule.window / MINUTE)
    base_ends = ends[:, None] - width * np.arange(1, rule.baseline_windows + 1)[None, :]
    # Baseline windows before the series was first seen (or before what was read) are unknown.
    watched = (base_ends - width >= 0) & (base_ends > series.first)
    window = _Windows(series, width)
    volume = window.sums(series.volume, ends)
    facts, effect = _evidence(rule, window, ends, base_ends, watched)
    with_data = ((window.sums(series.volume, base_ends) > 0) & watched).sum(axis=1)
    enough = (with_data >= rule.min_baseline_windows) & (volume >= rule.min_volume)
    hot = enough & (facts.z >= rule.threshold) & (effect >= rule.min_delta)
    clear = ~enough | (facts.z < rule.resolve_threshold)
    return Judgement(series.start, rule.window, ends, volume, facts, hot, clear)


@dataclass(frozen=True, slots=True)
class _Windows:
    """Window sums of a series' per-minute arrays, by the minute index where a window ends."""

    series: Series
    width: int

    def sums(self, values: Floats, ends: NDArray[np.int64]) -> Floats:
        total = np.concatenate(([0.0], np.cumsum(values)))
        last = len(values)
        return total[np.clip(ends, 0, last)] - total[np.clip(ends - self.width, 0, last)]


def _evidence(
    rule: Rule,
    window: _Windows,
    ends: NDArray[np.int64],
    base_ends: NDArray[np.int64],
    watched: NDArray[np.bool_],
) -> tuple[evidence.Evidence, Floats]:
    """The metric's evidence and its effect size towards bad news (for `min_delta`)."""
    s = window.series

    def base(values: Floats) -> Floats:
        return np.where(watched, window.sums(values, base_ends), 0.0)

    volume, negative = window.sums(s.volume, ends), window.sums(s.negative, ends)
    if rule.metric is Metric.negative_share:
        facts = evidence.share_evidence(negative, volume, base(s.negative), base(s.volume))
        with np.errstate(divide="ignore", invalid="ignore"):
            effect = np.where(volume > 0, negative / volume - facts.rate, 0.0)
        return facts, effect
    if rule.metric is Metric.negative_count:
        facts = evidence.count_evidence(negative, base(s.negative), watched)
        return facts, facts.observed - facts.expected
    facts = evidence.mean_score_evidence(
        window.sums(s.score, ends), volume, base(s.score), base(s.volume), base(s.polar)
    )
    return facts, facts.expected - facts.observed


def replay(
    rule: Rule, judged: Judgement, state: DetectorState | None = None
) -> tuple[list[Change], DetectorState]:
    """The transitions over the judged windows, in order, and the state after the last one.

    Quiet stretches are skipped to the next hot window; only firing episodes are walked window
    by window, so a day of minutes costs a handful of Python steps."""
    current = state or DetectorState()
    changes: list[Change] = []
    hot_at = np.flatnonzero(judged.hot)
    i = 0
    while i < len(judged):
        if current.firing:
            if not judged.clear[i]:
                current = replace(current, clear_streak=0)
            elif current.clear_streak + 1 < rule.resolve_windows:
                current = replace(current, clear_streak=current.clear_streak + 1)
            else:
                evaluation = judged.at(i)
                current = DetectorState(cooldown_until=evaluation.window_end + rule.cooldown)
                changes.append(Change(Transition.resolved, evaluation))
            i += 1
            continue
        later = hot_at[np.searchsorted(hot_at, i) :]
        fired = next((int(j) for j in later if not _cooling(current, judged.at(int(j)))), None)
        if fired is None:
            break
        evaluation = judged.at(fired)
        current = DetectorState(firing_since=evaluation.window_start)
        changes.append(Change(Transition.fired, evaluation))
        i = fired + 1
    return changes, current


def _cooling(state: DetectorState, evaluation: Evaluation) -> bool:
    return state.cooldown_until is not None and evaluation.window_start < state.cooldown_until


def detect(rule: Rule, series: Series, *, after: datetime, until: datetime) -> list[Episode]:
    """Every episode in (after, until], the last one open if it had not resolved by the end."""
    changes, _ = replay(rule, judge(rule, series, after=after, until=until))
    episodes: list[Episode] = []
    for change in changes:
        if change.transition is Transition.fired:
            episodes.append(Episode(change.evaluation))
        else:
            episodes[-1] = replace(episodes[-1], resolved_at=change.evaluation.window_end)
    return episodes
