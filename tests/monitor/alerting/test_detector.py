"""The count-aware detector: its evidence arithmetic as properties, and whole series that stay
quiet, fire on bursts within minutes, resolve with hysteresis and respect the cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerting import evidence
from monitor.alerting.detector import (
    MINUTE,
    DetectorState,
    MinuteCounts,
    Series,
    Transition,
    detect,
    judge,
    replay,
    step_floor,
)
from monitor.alerting.rules import Metric, Rule

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 24 * 60
WARM = 8 * 60 + 10  # the shipped baseline: 96 windows of 5 minutes, and one more


def rule(**overrides: object) -> Rule:
    return Rule.model_validate({"name": "r", "scope": "topic", "baseline_windows": 96} | overrides)


def noisy(
    seed: int,
    minutes: int,
    *,
    rate: float,
    p: float,
    burst: tuple[int, int, int] | None = None,
) -> Series:
    """Poisson volumes a minute, binomial negatives; `burst` = (first minute, minutes, extra
    negatives a minute)."""
    rng = np.random.default_rng(seed)
    volume = rng.poisson(rate, minutes).astype(float)
    negative = rng.binomial(volume.astype(int), p).astype(float)
    positive = np.floor((volume - negative) / 2)
    if burst is not None:
        first, length, extra = burst
        negative[first : first + length] += extra
        volume[first : first + length] += extra
    score = positive * 0.8 - negative * 0.8
    return Series(T0, negative, volume, negative + positive, score, 0)


def episodes(r: Rule, series: Series, after: int = WARM) -> list[tuple[int, int | None]]:
    """(fired window end, resolved at) in minutes from T0."""
    found = detect(r, series, after=T0 + after * MINUTE, until=T0 + len(series.volume) * MINUTE)
    return [
        (
            int((e.fired.window_end - T0) / MINUTE),
            None if e.resolved_at is None else int((e.resolved_at - T0) / MINUTE),
        )
        for e in found
    ]


# --- the arithmetic ---------------------------------------------------------------------------


def _share_z(x: float, n: float, base_x: list[float], base_n: list[float]) -> float:
    facts = evidence.share_evidence(
        np.array([x]), np.array([n]), np.array([base_x]), np.array([base_n])
    )
    return float(facts.z[0])


baselines = st.integers(12, 96).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 200), min_size=k, max_size=k),
        st.lists(st.floats(0.02, 0.6), min_size=k, max_size=k),
    )
)


def _baseline(volumes: list[int], shares: list[float]) -> tuple[list[float], list[float]]:
    return [round(n * s) for n, s in zip(volumes, shares, strict=True)], [float(n) for n in volumes]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(baseline=baselines, n=st.integers(1, 500), share=st.floats(0, 1))
def test_more_negatives_never_lower_the_evidence(
    baseline: tuple[list[int], list[float]], n: int, share: float
) -> None:
    base_x, base_n = _baseline(*baseline)
    x = round(n * share)
    z = _share_z(x, n, base_x, base_n)
    if x < n:
        assert _share_z(x + 1, n, base_x, base_n) >= z  # one more of the same items negative
    assert _share_z(x + 1, n + 1, base_x, base_n) >= z  # one more item, and it is negative


@settings(max_examples=200, deadline=None, derandomize=True)
@given(k=st.integers(12, 96), n=st.integers(1, 500), share=st.floats(0.02, 0.9))
def test_a_window_equal_to_its_baseline_never_fires(k: int, n: int, share: float) -> None:
    x = round(n * share)
    z = _share_z(x, n, [x] * k, [n] * k)
    assert z < rule().resolve_threshold < rule().threshold


@settings(max_examples=100, deadline=None, derandomize=True)
@given(counts=st.lists(st.integers(0, 300), min_size=12, max_size=96), x=st.integers(0, 400))
def test_count_evidence_rises_with_the_count(counts: list[int], x: int) -> None:
    base = np.array([counts], dtype=float)
    watched = np.ones_like(base, dtype=bool)
    low = evidence.count_evidence(np.array([float(x)]), base, watched).z[0]
    high = evidence.count_evidence(np.array([float(x + 1)]), base, watched).z[0]
    assert high >= low


def test_two_unlucky_items_are_not_evidence_but_fifteen_of_sixteen_are() -> None:
    # Five items a window, one of them negative, for eight hours.
    base_x, base_n = [1.0] * 96, [5.0] * 96
    assert _share_z(2, 2, base_x, base_n) < 2.5
    assert _share_z(15, 16, base_x, base_n) > rule().threshold


def test_a_big_window_is_judged_at_its_own_smaller_noise() -> None:
    # The same share (0.4 against a steady 0.2) is noise on 10 items and news on 500.
    small = _share_z(4, 10, [20.0] * 96, [100.0] * 96)
    large = _share_z(200, 500, [20.0] * 96, [100.0] * 96)
    assert small < 2.5 < rule().threshold < large


# --- whole series -------------------------------------------------------------------------------


def test_step_floor_aligns_to_the_clock() -> None:
    at = datetime(2026, 11, 1, 10, 7, 31, tzinfo=UTC)
    assert step_floor(at, timedelta(minutes=5)) == datetime(2026, 11, 1, 10, 5, tzinfo=UTC)
    assert step_floor(at, MINUTE) == datetime(2026, 11, 1, 10, 7, tzinfo=UTC)


def test_series_from_minutes_sums_repeats_and_fills_gaps() -> None:
    minutes = [
        MinuteCounts(T0, 1, 2, 3, 0.5),
        MinuteCounts(T0 + 4 * MINUTE, 1, 0, 0, -1),
        MinuteCounts(T0 + 4 * MINUTE, 2, 0, 1, -0.5),
        MinuteCounts(T0 + 9 * MINUTE, 5, 0, 0, -5),  # outside [start, end): ignored
    ]
    series = Series.from_minutes(minutes, T0 - 2 * MINUTE, T0 + 6 * MINUTE)
    assert series.volume.tolist() == [0, 0, 6, 0, 0, 0, 4, 0]
    assert series.negative.tolist() == [0, 0, 1, 0, 0, 0, 3, 0]
    assert series.score[6] == -1.5 and series.first == 2


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32),
    rate=st.floats(0.5, 40),
    p=st.floats(0.05, 0.5),
    metric=st.sampled_from(list(Metric)),
)
def test_a_day_of_steady_noisy_traffic_fires_nothing(
    seed: int, rate: float, p: float, metric: Metric
) -> None:
    r = rule(metric=metric)
    assert episodes(r, noisy(seed, WARM + DAY, rate=rate, p=p)) == []


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32), at=st.integers(WARM + 60, WARM + 600))
def test_a_negative_burst_fires_within_three_minutes_and_resolves(seed: int, at: int) -> None:
    # Four items a minute, a fifth of them negative; then eight extra negatives a minute.
    series = noisy(seed, at + 60, rate=4, p=0.2, burst=(at, 10, 8))
    ((fired, resolved),) = episodes(rule(), series)
    assert at < fired <= at + 3
    assert resolved is not None and resolved > at + 10


def test_resolves_only_after_the_hysteresis_evaluations() -> None:
    r = rule(resolve_windows=3)
    series = noisy(7, WARM + 120, rate=10, p=0.2, burst=(WARM + 30, 10, 10))
    judged = judge(r, series, after=T0 + WARM * MINUTE, until=T0 + (WARM + 120) * MINUTE)
    changes, state = replay(r, judged)
    assert [c.transition for c in changes] == [Transition.fired, Transition.resolved]
    resolved = changes[1].evaluation.window_end
    before = [judged.at(i) for i in range(len(judged)) if judged.at(i).window_end <= resolved]
    assert all(e.clear for e in before[-3:]) and not before[-4].clear
    assert state == DetectorState(cooldown_until=resolved + r.cooldown)


def test_cooldown_holds_back_a_second_burst() -> None:
    first, second = WARM + 60, WARM + 120
    series = noisy(3, WARM + 200, rate=6, p=0.2, burst=(first, 5, 8))
    series.negative[second : second + 5] += 8
    series.volume[second : second + 5] += 8
    assert len(episodes(rule(cooldown_minutes=90), series)) == 1
    assert len(episodes(rule(cooldown_minutes=0), series)) == 2


def test_too_little_volume_never_fires() -> None:
    # Every item negative for an hour, but never three items in a window.
    series = noisy(1, WARM + DAY, rate=0.2, p=0.2)
    series.negative[WARM + 100 : WARM + 160] = series.volume[WARM + 100 : WARM + 160]
    assert episodes(rule(min_volume=3), series) == []


def test_mean_score_falls_on_bad_news() -> None:
    r = rule(metric=Metric.mean_score)
    series = noisy(11, WARM + 60, rate=10, p=0.2, burst=(WARM + 20, 10, 10))
    found = detect(r, series, after=T0 + WARM * MINUTE, until=T0 + (WARM + 60) * MINUTE)
    assert len(found) == 1
    assert found[0].fired.observed < found[0].fired.expected


def test_market_count_fires_on_a_surge_of_negatives() -> None:
    r = rule(metric=Metric.negative_count, scope="all")
    series = noisy(13, WARM + 60, rate=40, p=0.2, burst=(WARM + 20, 5, 20))
    ((fired, _),) = episodes(r, series)
    assert WARM + 20 < fired <= WARM + 23
