"""A rule's per-minute counts kept between evaluator cycles, so a cycle reads only new minutes.

Each cycle judges the windows that closed since the last one against a baseline horizon of
`(baseline_windows + 1) x window` minutes (8 h for the shipped rules), and reading that whole
horizon every cycle costs one row per key and minute: with 5,000 busy tickers, 2.4 million rows.
The leader keeps the rows it read instead, and each cycle reads only from `reread` before the
previous read's upper bound to the new one, then forgets the minutes that left the horizon.

Exactness: a document within the allowed lateness lands at or after the watermark, hence at or
after the previous read's upper bound, so without late data the kept rows equal a full read row
for row and the evaluations are bit-identical (`tests/monitor/alerting/test_series_cache.py`).
`reread` (the evaluator passes the lateness plus the window) also catches a straggler up to that
much beyond the lateness; an older one reaches the kept baseline at the next full read, which
happens on the first cycle, after `full_read_every` of wall time, and whenever the horizon moved
back or the rule changed. Such a straggler's own window was judged before it arrived either way;
until the full read, only later windows' baselines miss it.

Memory: 32 bytes a row (int64 minute, int32 key code, three int32 counts, float64 score sum) for
the horizon's rows with data, twice that for a moment while a read merges: 5,000 tickers each with
data in every one of 483 minutes would be 77 MB; 2 million documents a month (about 70 ticker
rows a minute, 34,000 in 8 hours) is about 1 MB.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from monitor.alerting import series
from monitor.alerting.detector import EPOCH, MINUTE, Series
from monitor.alerting.rules import Rule

Clock = Callable[[], float]


def epoch_minute(moment: datetime) -> int:
    return (moment - EPOCH) // MINUTE


class SeriesCache:
    """One rule's `sentiment_minute` rows over [start, end), as columns ordered by minute."""

    def __init__(
        self,
        rule: Rule,
        *,
        reread: timedelta = timedelta(0),
        full_read_every: timedelta = timedelta(0),
        clock: Clock = time.monotonic,
    ) -> None:
        self.rule = rule
        self.reread = reread
        self._full_read_every = full_read_every.total_seconds()
        self._clock = clock
        self._full_read_at: float | None = None
        self._span: tuple[int, int] | None = None  # [start, end) in epoch minutes
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        self._minute = np.zeros(0, dtype=np.int64)
        self._key = np.zeros(0, dtype=np.int32)
        self._counts = np.zeros((0, 3), dtype=np.int32)
        self._score = np.zeros(0, dtype=np.float64)
        self._groups: tuple[NDArray[np.intp], NDArray[np.int32]] | None = None
        self.rows_read = 0  # by the last `read`, for the benchmark and the tests

    @property
    def rows(self) -> int:
        return int(self._minute.size)

    def read(self, *, session: Session, since: datetime, until: datetime) -> None:
        """Bring the kept rows to [since, until), reading only what can have changed."""
        start, end = epoch_minute(since), epoch_minute(until)
        now = self._clock()
        full = self._full_read_due(start, now)
        margin = math.ceil(self.reread / MINUTE)
        lo = start if full else min(max(self._end - margin, start), end)
        fresh = series.minute_rows(
            session=session, rule=self.rule, since=EPOCH + lo * MINUTE, until=until
        )
        if full:  # only once the read succeeded, so a failed one leaves the cache consistent
            self._forget()
            self._full_read_at = now
        first, last = np.searchsorted(self._minute, [start, lo])
        keep = slice(int(first), int(last))
        codes = np.array([self._code(k) for k in fresh.keys], dtype=np.int32)
        self._minute = np.concatenate((self._minute[keep], fresh.minute))
        self._key = np.concatenate((self._key[keep], codes))
        self._counts = np.concatenate((self._counts[keep], fresh.counts))
        self._score = np.concatenate((self._score[keep], fresh.score))
        self._span, self._groups, self.rows_read = (start, end), None, len(fresh.keys)

    def keys_since(self, moment: datetime) -> set[str]:
        """The keys with a row at or after `moment`."""
        recent = self._key[np.searchsorted(self._minute, epoch_minute(moment)) :]
        return {self._names[int(c)] for c in np.unique(recent)}

    def series(self, key: str) -> Series:
        """The key's dense series over [start, end), as `Series.from_minutes` builds it."""
        if self._span is None:
            raise ValueError("read the rows before asking for a series")
        start, end = (EPOCH + m * MINUTE for m in self._span)
        rows = self._rows_of(key)
        offsets = self._minute[rows] - self._span[0]
        return Series.from_columns(start, end, offsets, self._counts[rows], self._score[rows])

    def _full_read_due(self, start: int, now: float) -> bool:
        """True on the first read, when the horizon moved back, or `full_read_every` after the
        last full read."""
        return (
            self._span is None
            or start < self._span[0]
            or self._full_read_at is None
            or now - self._full_read_at >= self._full_read_every
        )

    @property
    def _end(self) -> int:
        return self._span[1] if self._span is not None else 0

    def _forget(self) -> None:
        self._names, self._codes = [], {}
        self._key = self._key[:0]
        self._minute, self._counts, self._score = (
            self._minute[:0],
            self._counts[:0],
            self._score[:0],
        )

    def _code(self, key: str) -> int:
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self._names)
            self._names.append(key)
        return code

    def _rows_of(self, key: str) -> NDArray[np.intp]:
        code = self._codes.get(key)
        if code is None:
            return np.zeros(0, dtype=np.intp)
        if self._groups is None:
            order = np.argsort(self._key, kind="stable")
            self._groups = (order, self._key[order])
        order, sorted_keys = self._groups
        lo, hi = np.searchsorted(sorted_keys, [code, code + 1])
        return order[lo:hi]


class SeriesCaches:
    """The leader's caches, one per rule; `clear` when leadership may have changed hands."""

    def __init__(self, *, full_read_every: timedelta, clock: Clock = time.monotonic) -> None:
        self._full_read_every = full_read_every
        self._clock = clock
        self._caches: dict[str, SeriesCache] = {}

    def for_rule(self, rule: Rule, *, reread: timedelta) -> SeriesCache:
        """The rule's cache; a fresh one when the rule (or its re-read margin) changed."""
        cache = self._caches.get(rule.name)
        if cache is None or cache.rule != rule or cache.reread != reread:
            cache = SeriesCache(
                rule, reread=reread, full_read_every=self._full_read_every, clock=self._clock
            )
            self._caches[rule.name] = cache
        return cache

    def clear(self) -> None:
        self._caches.clear()
