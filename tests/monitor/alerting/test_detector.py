"""The spike detector on generated series: quiet traffic stays quiet, bursts fire and resolve."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerting.detector import (
    DetectorState,
    Transition,
    WindowCounts,
    advance,
    densify,
    detect,
    evaluate,
    replay,
    window_start,
)
from monitor.alerting.rules import BaselineMethod, Metric, Rule

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 24 * 60


def rule(**overrides: object) -> Rule:
    fields: dict[str, object] = {
        "name": "r",
        "scope": "topic",
        "window_minutes": 5,
        "min_delta": 0.2,
        "min_volume": 20,
    }
    return Rule.model_validate(fields | overrides)


def minutes(
    rng: random.Random,
    count: int,
    *,
    rate: float = 20.0,
    p_negative: float = 0.2,
    start: datetime = T0,
    burst: tuple[int, int] | None = None,
    burst_p: float = 0.7,
) -> list[WindowCounts]:
    """Per-minute counts: Poisson-ish volume, binomial negatives, a burst in [first, last)."""
    out = []
    for m in range(count):
        volume = max(0, round(rng.gauss(rate, rate**0.5)))
        p = burst_p if burst and burst[0] <= m < burst[1] else p_negative
        negative = sum(rng.random() < p for _ in range(volume))
        positive = (volume - negative) // 2
        neutral = volume - negative - positive
        score = positive * 0.8 - negative * 0.8
        out.append(WindowCounts(start + timedelta(minutes=m), negative, neutral, positive, score))
    return out


def series(r: Rule, counts: list[WindowCounts], total_minutes: int) -> list[WindowCounts]:
    return densify(r, counts, T0, T0 + timedelta(minutes=total_minutes))


def test_window_start_aligns_to_the_clock() -> None:
    at = datetime(2026, 11, 1, 10, 7, 31, tzinfo=UTC)
    assert window_start(at, timedelta(minutes=5)) == datetime(2026, 11, 1, 10, 5, tzinfo=UTC)


def test_densify_sums_minutes_and_fills_gaps() -> None:
    r = rule()
    counts = [WindowCounts(T0, 1, 2, 3, 0.5), WindowCounts(T0 + timedelta(minutes=4), 1, 0, 0, -1)]
    windows = densify(r, counts, T0, T0 + timedelta(minutes=15))
    assert [w.volume for w in windows] == [7, 0, 0]
    assert windows[0] == WindowCounts(T0, 2, 2, 3, -0.5)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32),
    rate=st.floats(8, 60),
    p_negative=st.floats(0.05, 0.5),
    method=st.sampled_from(list(BaselineMethod)),
    metric=st.sampled_from(list(Metric)),
)
def test_a_day_of_steady_noisy_traffic_fires_nothing(
    seed: int, rate: float, p_negative: float, method: BaselineMethod, metric: Metric
) -> None:
    r = rule(
        baseline=method,
        metric=metric,
        min_delta=0.0 if metric is not Metric.negative_share else 0.2,
    )
    counts = minutes(random.Random(seed), DAY, rate=rate, p_negative=p_negative)
    assert detect(r, series(r, counts, DAY)) == []


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32),
    burst_minute=st.integers(8 * 60, 20 * 60),
    method=st.sampled_from(list(BaselineMethod)),
)
def test_a_negative_burst_fires_within_one_window(
    seed: int, burst_minute: int, method: BaselineMethod
) -> None:
    r = rule(baseline=method)
    counts = minutes(random.Random(seed), DAY, burst=(burst_minute, burst_minute + 15))
    episodes = detect(r, series(r, counts, DAY))
    assert len(episodes) == 1
    burst_at = T0 + timedelta(minutes=burst_minute)
    # It fires on the first window the burst fills, or the one holding its start.
    assert episodes[0].fired.window_end <= burst_at + 2 * r.window
    assert episodes[0].started_at >= window_start(burst_at, r.window)
    assert episodes[0].resolved_at is not None


def test_resolves_only_after_the_hysteresis_windows() -> None:
    r = rule(resolve_windows=3)
    counts = minutes(random.Random(7), 600, burst=(400, 430))
    steps = list(replay(r, series(r, counts, 600)))
    fired = [e for e, _, t in steps if t is Transition.fired]
    resolved = [e for e, _, t in steps if t is Transition.resolved]
    assert len(fired) == len(resolved) == 1
    after_burst = [e for e, _, _ in steps if e.window_start >= T0 + timedelta(minutes=430)]
    # The first three windows after the burst are clear; the third one resolves.
    assert all(e.clear for e in after_burst[:3])
    assert resolved[0] == after_burst[2]


def test_a_hot_window_during_recovery_resets_the_streak() -> None:
    r = rule(resolve_windows=2)
    start = DetectorState(firing_since=T0)
    end = T0 + r.window
    clear = evaluate(r, [], WindowCounts(T0))  # no baseline yet: counts as clear
    assert clear.clear
    hot = clear.__class__(T0, end, 50, 0.8, 0.2, 9.0, True, False)
    state, transition = advance(r, start, clear)
    assert (state.clear_streak, transition) == (1, None)
    state, transition = advance(r, state, hot)
    assert (state.clear_streak, transition) == (0, None)
    state, _ = advance(r, state, clear)
    state, transition = advance(r, state, clear)
    assert transition is Transition.resolved
    assert state.cooldown_until == clear.window_end + r.cooldown


def test_cooldown_holds_back_a_second_burst() -> None:
    r = rule(cooldown_minutes=60)
    counts = minutes(random.Random(3), 900, burst=(600, 615))
    counts = [
        *counts[:640],
        *minutes(random.Random(4), 260, start=T0 + timedelta(minutes=640), burst=(10, 25)),
    ]
    assert len(detect(r, series(r, counts, 900))) == 1
    assert len(detect(rule(cooldown_minutes=0), series(r, counts, 900))) == 2


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32))
def test_too_little_volume_never_fires(seed: int) -> None:
    r = rule(min_volume=20)
    # Five documents a window on average, then a burst where every one of them is negative.
    counts = minutes(random.Random(seed), DAY, rate=1.0, burst=(700, 760), burst_p=1.0)
    windows = series(r, counts, DAY)
    assert max(w.volume for w in windows) < 20
    assert detect(r, windows) == []


def test_mean_score_falls_on_bad_news() -> None:
    r = rule(metric=Metric.mean_score, min_delta=0.0)
    counts = minutes(random.Random(11), 600, burst=(400, 410), burst_p=0.8)
    episodes = detect(r, series(r, counts, 600))
    assert len(episodes) == 1
    assert episodes[0].fired.observed is not None and episodes[0].fired.baseline is not None
    assert episodes[0].fired.observed < episodes[0].fired.baseline
