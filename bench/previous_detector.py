"""The detector finsent shipped before the count-aware one, kept only so `bench_detection.py`
can print both side by side: tumbling 5-minute windows, each window's negative share against
the median and MAD of the 48 shares before it, a binomial noise floor, threshold 5, min_delta 0.2,
min_volume 10, resolve after 2 windows below 1.5, cooldown 30 minutes (the old shipped
`ticker-negative-share` rule)."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

WINDOW = 5
BASELINE, MIN_BASELINE = 48, 12
THRESHOLD, MIN_DELTA, MIN_VOLUME = 5.0, 0.2, 10
RESOLVE_THRESHOLD, RESOLVE_WINDOWS, COOLDOWN = 1.5, 2, 30


def fired_minutes(
    negative: NDArray[np.int64], volume: NDArray[np.int64], *, evaluate_from: int
) -> list[int]:
    """Minute indices where an episode fired (the end of the window that fired it)."""
    windows = len(volume) // WINDOW
    neg = negative[: windows * WINDOW].reshape(windows, WINDOW).sum(axis=1)
    vol = volume[: windows * WINDOW].reshape(windows, WINDOW).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(vol > 0, neg / vol, np.nan)
    index = np.arange(windows)[:, None] - np.arange(1, BASELINE + 1)[None, :]
    past = np.where(index >= 0, share[np.clip(index, 0, None)], np.nan)
    enough_past = np.sum(~np.isnan(past), axis=1) >= MIN_BASELINE
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # windows with no past: NaN, not judged
        centre = np.nanmedian(past, axis=1)
        spread = 1.4826 * np.nanmedian(np.abs(past - centre[:, None]), axis=1)
        p = np.clip(centre, 0.01, 0.99)
        floor = np.maximum(np.sqrt(p * (1 - p) / np.maximum(vol, 1)), 0.01)
        deviation = (share - centre) / np.maximum(spread, floor)
    judged = enough_past & ~np.isnan(share)
    big_enough = judged & (vol >= MIN_VOLUME)
    hot = big_enough & (deviation >= THRESHOLD) & (share - centre >= MIN_DELTA)
    clear = ~big_enough | ~(deviation >= RESOLVE_THRESHOLD)
    fired: list[int] = []
    firing, streak, cooldown_until = False, 0, -1
    for w in range(evaluate_from // WINDOW, windows):
        start = w * WINDOW
        if firing:
            streak = streak + 1 if clear[w] else 0
            if streak >= RESOLVE_WINDOWS:
                firing, cooldown_until = False, start + WINDOW + COOLDOWN
        elif hot[w] and start >= cooldown_until:
            firing, streak = True, 0
            fired.append(start + WINDOW)
    return fired
