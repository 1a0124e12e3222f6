"""Which resolution serves a range: aligned coarse middles, finer edges, exactly the range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.storage.resolution import (
    DAY,
    HOUR,
    MINUTE,
    WEEK,
    Piece,
    ceil,
    floor,
    plan,
    steps_for,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
BUCKETS = [timedelta(minutes=m) for m in (1, 2, 5, 15, 60, 90, 120, 360, 1440, 2880, 20160)]


def test_steps_are_those_that_divide_the_bucket() -> None:
    assert steps_for(timedelta(minutes=5)) == (MINUTE,)
    assert steps_for(timedelta(minutes=90)) == (MINUTE,)
    assert steps_for(timedelta(hours=6)) == (HOUR, MINUTE)
    assert steps_for(timedelta(days=2)) == (DAY, HOUR, MINUTE)
    assert steps_for(timedelta(days=14)) == (WEEK, DAY, HOUR, MINUTE)
    assert steps_for(None) == (WEEK, DAY, HOUR, MINUTE)
    assert steps_for(timedelta(seconds=30)) == (MINUTE,)


def test_a_range_of_days_reads_days_with_hour_and_minute_edges() -> None:
    since = T0 + timedelta(hours=22, minutes=30)
    until = T0 + timedelta(days=3, hours=1, minutes=10)
    assert plan(since, until) == [
        Piece(MINUTE, since, T0 + timedelta(hours=23)),
        Piece(HOUR, T0 + timedelta(hours=23), T0 + DAY),
        Piece(DAY, T0 + DAY, T0 + 3 * DAY),
        Piece(HOUR, T0 + 3 * DAY, T0 + 3 * DAY + HOUR),
        Piece(MINUTE, T0 + 3 * DAY + HOUR, until),
    ]
    assert plan(since, until, coarse=False) == [Piece(MINUTE, since, until)]


def test_a_long_range_reads_whole_weeks_and_days_around_them() -> None:
    saturday = datetime(2026, 3, 7, tzinfo=UTC)  # weeks start on ORIGIN's weekday
    since, until = saturday - 2 * DAY, saturday + 3 * WEEK + DAY + HOUR
    assert plan(since, until) == [
        Piece(DAY, since, saturday),
        Piece(WEEK, saturday, saturday + 3 * WEEK),
        Piece(DAY, saturday + 3 * WEEK, saturday + 3 * WEEK + DAY),
        Piece(HOUR, saturday + 3 * WEEK + DAY, until),
    ]
    # A bucket of a day cannot hold a week row whole: days only.
    assert {p.step for p in plan(since, until, DAY)} == {DAY, HOUR}


def test_unaligned_ends_count_the_minutes_that_start_inside() -> None:
    since = T0 + timedelta(seconds=10)
    assert plan(since, T0 + timedelta(minutes=2, seconds=1)) == [
        Piece(MINUTE, T0 + MINUTE, T0 + 3 * MINUTE)
    ]
    assert plan(since, T0 + timedelta(seconds=50)) == []


moments = st.integers(min_value=0, max_value=40 * 24 * 60 * 60).map(
    lambda s: T0 + timedelta(seconds=s)
)


@given(moments, moments, st.sampled_from(BUCKETS))
def test_pieces_tile_exactly_the_minutes_of_the_range(
    a: datetime, b: datetime, bucket: timedelta
) -> None:
    since, until = min(a, b), max(a, b)
    pieces = plan(since, until, bucket)
    covered = [p.since + i * MINUTE for p in pieces for i in range((p.until - p.since) // MINUTE)]
    expected_start, expected_end = ceil(since, MINUTE), ceil(until, MINUTE)
    assert covered == [
        expected_start + i * MINUTE for i in range((expected_end - expected_start) // MINUTE)
    ]
    for p in pieces:
        assert p.step in steps_for(bucket)
        assert floor(p.since, p.step) == p.since and floor(p.until, p.step) == p.until
        # Each coarse row falls inside one bucket, so binning rows equals binning minutes.
        assert bucket % p.step == timedelta(0) or p.step == MINUTE
    assert len(pieces) <= 7
