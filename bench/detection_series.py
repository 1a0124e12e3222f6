"""Synthetic per-minute news series for `bench_detection.py`: realistic volumes and an
overdispersed negative share, with optional bursts of extra negative items. Seeded numpy only.

Volume: Poisson around the level (items per 5 minutes), modulated by a slow lognormal AR(1)
(news comes and goes over the hour). Negative share: per series a base rate in 0.12-0.30, moved on
the logit scale by a slow AR(1) (the tone of the day drifts) and by per-minute noise (stories
cluster), so windows vary well beyond binomial noise, as real news does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SLOW_MINUTES = 90.0  # correlation time of the drifts
VOLUME_DRIFT_SD = 0.3  # of log volume
TONE_DRIFT_SD = 0.25  # of the logit of the negative share
TONE_NOISE_SD = 0.2  # minute to minute, on the same logit scale


@dataclass(frozen=True, slots=True)
class Counts:
    """Per-minute negatives and volume of one series."""

    negative: NDArray[np.int64]
    volume: NDArray[np.int64]


def _ar1(rng: np.random.Generator, size: int, sd: float) -> NDArray[np.float64]:
    keep = np.exp(-1.0 / SLOW_MINUTES)
    shocks = rng.normal(0.0, sd * np.sqrt(1 - keep * keep), size)
    out = np.empty(size)
    level = rng.normal(0.0, sd)
    for i in range(size):
        level = keep * level + shocks[i]
        out[i] = level
    return out


def quiet_series(rng: np.random.Generator, per_5min: float, minutes: int) -> Counts:
    """One series without any burst."""
    rate = per_5min / 5.0 * np.exp(_ar1(rng, minutes, VOLUME_DRIFT_SD) - VOLUME_DRIFT_SD**2 / 2)
    volume = rng.poisson(rate)
    base = rng.uniform(0.12, 0.30)
    logit = np.log(base / (1 - base)) + _ar1(rng, minutes, TONE_DRIFT_SD)
    logit += rng.normal(0.0, TONE_NOISE_SD, minutes)
    share = 1.0 / (1.0 + np.exp(-logit))
    return Counts(rng.binomial(volume, share), volume)


def with_burst(counts: Counts, at: int, extra: int, length: int = 3) -> Counts:
    """`extra` more negative items spread evenly over `length` minutes from minute `at`."""
    added = np.zeros_like(counts.volume)
    added[at : at + length] = np.diff(np.linspace(0, extra, length + 1).round().astype(np.int64))
    return Counts(counts.negative + added, counts.volume + added)
