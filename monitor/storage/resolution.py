"""Rollup resolutions (minute, hour, day, week) and which of them answers a time range and bucket.

A query reads the coarsest resolution whose size divides its bucket, so each coarse row falls in
one bucket; where the range's edges are not aligned to it, the edges come from finer resolutions,
so the answer equals the one the minute rows give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Weeks start on Saturdays, ORIGIN's weekday: they only sum days for long ranges, and no bucket a
# reader asks for is longer than a day, so where they start is never seen.
WEEK = timedelta(days=7)
STEPS = (WEEK, DAY, HOUR, MINUTE)  # coarsest first; each divides the one before
# `date_bin`'s origin for every bucket; aligned to every step (a UTC midnight).
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Piece:
    """Rows of resolution `step` whose start lies in [since, until), both aligned to `step`."""

    step: timedelta
    since: datetime
    until: datetime


def floor(moment: datetime, step: timedelta) -> datetime:
    """The start of the `step` (UTC-aligned) that `moment` falls in."""
    return ORIGIN + ((moment - ORIGIN) // step) * step


def ceil(moment: datetime, step: timedelta) -> datetime:
    """The first `step` boundary at or after `moment`."""
    start = floor(moment, step)
    return start if start == moment else start + step


def steps_for(bucket: timedelta | None) -> tuple[timedelta, ...]:
    """The resolutions that can serve `bucket`, coarsest first (every one when None).

    A bucket finer than a minute, or not a whole number of minutes, is served by minutes alone.
    """
    usable = tuple(s for s in STEPS if bucket is None or bucket % s == timedelta(0))
    return usable or (MINUTE,)


def plan(
    since: datetime, until: datetime, bucket: timedelta | None = None, *, coarse: bool = True
) -> list[Piece]:
    """Aligned pieces covering exactly the minutes that start in [since, until), oldest first.

    `coarse=False` reads minutes only (the coarse rollups are not complete yet).
    """
    start, end = ceil(since, MINUTE), ceil(until, MINUTE)
    return _cover(start, end, steps_for(bucket) if coarse else (MINUTE,))


def _cover(start: datetime, end: datetime, steps: tuple[timedelta, ...]) -> list[Piece]:
    if start >= end:
        return []
    step, finer = steps[0], steps[1:]
    if not finer:
        return [Piece(step, start, end)]
    low, high = ceil(start, step), floor(end, step)
    if low >= high:
        return _cover(start, end, finer)
    return [*_cover(start, low, finer), Piece(step, low, high), *_cover(high, end, finer)]
