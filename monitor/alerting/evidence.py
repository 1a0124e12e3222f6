"""How surprising a window's negative news is, given its own volume and its baseline: pure numpy.

Each function takes one row per evaluated window (`window_*`, shape `(T,)`) and the baseline
windows before it (`base_*`, shape `(T, K)`; a window with no documents is unobserved) and
returns the observed and expected value, the baseline rate and a z score. The z score is the
upper-tail probability of the observation under the baseline, written as a standard-normal
quantile, so a 10-item window and a 500-item window are on one scale and one threshold fits both.

- `negative_share`: negatives are judged as a count against volume × the baseline's rate
  (weighted towards recent windows, so a slow drift in tone is not read as a spike), with
  extra-binomial spread: the between-window variance tau² is the DerSimonian-Laird moment
  estimate used for overdispersed funnel plots (Spiegelhalter, "Funnel plots for comparing
  institutional performance", Stat Med 2005, §3.5), and the uncertainty of the pooled rate itself
  is added as Farrington et al. do for their prediction threshold ("A statistical algorithm for
  the early detection of outbreaks of infectious disease", JRSS A 1996). The tail is the
  beta-binomial's, computed through Kish's design effect D = 1 + (n - 1)·rho (a binomial with
  n/D trials), which keeps small windows exact enough: 2 of 2 negative is never evidence, 15 of
  17 where 1 is usual is overwhelming. Two guards from the benchmark: tau² counts only the excess
  of Cochran's Q over its null mean plus half its null spread (at 5 items a window the plain
  estimate is mostly noise), and z is read as Student-t with Satterthwaite's degrees of freedom,
  since the spread itself comes from a few dozen windows.
- `negative_count`: negatives per window against the baseline's mean, negative binomial with the
  method-of-moments overdispersion of the baseline counts (Poisson when there is none), plus the
  variance of the estimated mean (Farrington's prediction variance).
- `mean_score`: the window's mean score against the pooled baseline mean, per-item variance from
  the class counts, DerSimonian-Laird between-window variance; normal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

Floats = NDArray[np.float64]
Z_LIMIT = 40.0  # tail probabilities underflow long before this: report "at least 40"
MAX_RHO = 0.95  # the intra-window correlation is a correlation: keep the design effect finite
OUTLIER_MIN_ITEMS = 10  # a handful of items is too few to call a window a past burst
OUTLIER_RESIDUAL = 4.0  # a past burst, not noise (Noufaily et al. cut at 2.58: too eager here)
SHRINK = 0.5  # of the null spread of Q not taken as heterogeneity (see `_tau2`)
HALF_LIFE = 12.0  # windows; the expected rate leans on the last hour or so


@dataclass(frozen=True, slots=True)
class Evidence:
    """Per evaluated window: what it holds, what its baseline expects, and how surprising that is.

    `observed` and `expected` are negative counts (share and count metrics) or mean scores;
    `rate` is the baseline's negative share, negatives per window, or mean score."""

    observed: Floats
    expected: Floats
    rate: Floats
    z: Floats


def z_from_tail(tail: Floats) -> Floats:
    """The standard-normal quantile with the same upper-tail probability, clipped to +-Z_LIMIT."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -special.ndtri(np.clip(tail, 0.0, 1.0))
    clipped: Floats = np.clip(np.nan_to_num(z, nan=0.0), -Z_LIMIT, Z_LIMIT)
    return clipped


def _t_adjusted(z: Floats, estimated: Floats, total: Floats, k: NDArray[np.int_]) -> Floats:
    """`z` as if it were Student-t, with Satterthwaite's degrees of freedom for a variance of
    which `estimated` (out of `total`) comes from `k` baseline windows: a spread read off a few
    dozen windows is itself uncertain, most of all on busy series where it dominates."""
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(estimated > 0, np.square(total / estimated) * np.maximum(k - 1, 1), np.inf)
    df = np.nan_to_num(df, nan=np.inf, posinf=1e9)
    return z_from_tail(special.stdtr(df, -z))


def _tau2(y: Floats, w: Floats, centre: Floats, observed: NDArray[np.bool_]) -> Floats:
    """DerSimonian-Laird between-window variance of `y` around `centre`, weights `w` (T, K)."""
    w = np.where(observed, w, 0.0)
    q = np.sum(w * np.square(np.where(observed, y, 0.0) - centre[:, None]), axis=1)
    k = observed.sum(axis=1)
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = sw - np.sum(w * w, axis=1) / sw
        df = np.maximum(k - 1, 0)
        tau2 = (q - df - SHRINK * np.sqrt(2.0 * df)) / denominator
    return np.where((k > 1) & (denominator > 0), np.maximum(np.nan_to_num(tau2), 0.0), 0.0)


def share_evidence(
    window_negative: Floats, window_volume: Floats, base_negative: Floats, base_volume: Floats
) -> Evidence:
    """Negatives in a window of its volume against the baseline's negative rate."""
    observed = (base_volume > 0) & ~_past_bursts(base_negative, base_volume)
    base_negative, base_volume = base_negative * observed, base_volume * observed
    _, tau2 = _share_spread(base_negative, base_volume, observed)
    # The expected rate leans on recent windows, so a slow drift in tone is not read as a spike.
    recency = _recency(base_volume.shape[1])
    weighted_n = base_volume @ recency
    rate = (base_negative @ recency + 0.5) / (weighted_n + 1.0)
    spread = rate * (1.0 - rate)
    # Variance of the weighted rate: each window's binomial and between-window parts, weighted.
    window_var = base_volume * spread[:, None] + np.square(base_volume) * tau2[:, None]
    rate_variance = (np.square(recency) * window_var).sum(axis=1) + spread
    rate_variance /= np.square(weighted_n + 1.0)
    rho = np.minimum((tau2 + rate_variance) / spread, MAX_RHO)
    n, x = window_volume, window_negative
    design = 1.0 + np.maximum(n - 1.0, 0.0) * rho
    k = np.maximum(observed.sum(axis=1), 1)
    z = _t_adjusted(
        z_from_tail(_mid_p(x / design, n / design, rate)),
        n * n * (tau2 + rate_variance),
        n * spread * design,
        k,
    )
    return Evidence(x.astype(np.float64), n * rate, rate, z)


def _past_bursts(base_negative: Floats, base_volume: Floats) -> NDArray[np.bool_]:
    """Baseline windows far above a robust first fit (median share, MAD spread).

    A past burst left in the baseline would widen the spread and mask the next one, so such
    windows are left out, as Farrington's reweighting does (Noufaily et al., Stat Med 2013)."""
    observed = base_volume > 0
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-empty baselines: NaN, then 0
        shares = np.where(observed, base_negative / base_volume, np.nan)
        centre = np.nan_to_num(np.nanmedian(shares, axis=1), nan=0.5)
        mad = np.nan_to_num(np.nanmedian(np.abs(shares - centre[:, None]), axis=1))
        binomial = np.nanmedian(
            np.where(observed, centre[:, None] * (1 - centre[:, None]) / base_volume, np.nan),
            axis=1,
        )
        robust_tau2 = np.maximum(np.square(1.4826 * mad) - np.nan_to_num(binomial), 0.0)
        scale = np.sqrt(
            np.maximum(centre * (1 - centre), 1e-3)[:, None] / base_volume + robust_tau2[:, None]
        )
        residual = (shares - centre[:, None]) / scale
    outliers: NDArray[np.bool_] = (np.nan_to_num(residual) > OUTLIER_RESIDUAL) & (
        base_volume >= OUTLIER_MIN_ITEMS
    )
    return outliers


def _share_spread(
    base_negative: Floats, base_volume: Floats, observed: NDArray[np.bool_]
) -> tuple[Floats, Floats]:
    """The pooled negative rate of the baseline windows and their between-window variance."""
    total_n = base_volume.sum(axis=1)
    pooled = (base_negative.sum(axis=1) + 0.5) / (total_n + 1.0)  # never exactly 0 or 1
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = base_negative / base_volume
    weights = base_volume / (pooled * (1.0 - pooled))[:, None]
    return pooled, _tau2(shares, weights, pooled, observed)


def _recency(k: int) -> Floats:
    """Weights of the baseline windows, newest first, halving every HALF_LIFE windows."""
    return np.power(0.5, np.arange(k) / HALF_LIFE)


def _mid_p(x: Floats, n: Floats, p: Floats) -> Floats:
    """P(X > x) + P(X = x) / 2 for X binomial(n, p), continued to real x and n through the
    regularized incomplete beta function (the plain P(X >= x) is needlessly conservative on
    windows of a few items)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        at_least = np.where(x > 0, special.betainc(x, n - x + 1.0, p), 1.0)
        above = np.where(x + 1 <= n, special.betainc(x + 1.0, n - x, p), 0.0)
    return np.nan_to_num((at_least + above) / 2.0, nan=1.0)


def count_evidence(
    window_negative: Floats, base_negative: Floats, observed: NDArray[np.bool_]
) -> Evidence:
    """Negatives per window against the baseline's mean count, overdispersed when history is."""
    k = np.maximum(observed.sum(axis=1), 1)
    counts = np.where(observed, base_negative, 0.0)
    mean = (counts.sum(axis=1) + 0.5) / k
    deviations = np.where(observed, base_negative - mean[:, None], 0.0)
    sample_var = np.sum(deviations**2, axis=1) / np.maximum(k - 1, 1)
    excess = np.maximum(sample_var - mean, 0.0)  # the negative binomial's phi * mean^2
    variance = mean + excess + sample_var / k
    x = window_negative
    extra = np.maximum(variance - mean, 1e-12)
    r = mean * mean / extra
    q = mean / variance
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = special.betainc(x, r, 1.0 - q)
    tail = np.where(x > 0, tail, 1.0)
    return Evidence(x.astype(np.float64), mean, mean, z_from_tail(tail))


def mean_score_evidence(
    window_score: Floats,
    window_volume: Floats,
    base_score: Floats,
    base_volume: Floats,
    base_polar: Floats,
) -> Evidence:
    """The window's mean score against the pooled baseline mean; lower is worse."""
    observed = base_volume > 0
    total_n = np.maximum(base_volume.sum(axis=1), 1.0)
    centre = base_score.sum(axis=1) / total_n
    # A score is p_positive - p_negative, near -1/0/+1 by class: E[s^2] ~ the polar share.
    item_var = np.maximum(base_polar.sum(axis=1) / total_n - centre**2, 0.01)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = base_score / base_volume
        mean = np.where(window_volume > 0, window_score / window_volume, centre)
    tau2 = _tau2(means, base_volume / item_var[:, None], centre, observed)
    k = np.maximum(observed.sum(axis=1), 1)
    n = np.maximum(window_volume, 1.0)
    variance = item_var / n + tau2 + item_var / total_n + tau2 / k
    z = np.where(window_volume > 0, (centre - mean) / np.sqrt(variance), 0.0)
    return Evidence(mean, centre, centre, np.clip(z, -Z_LIMIT, Z_LIMIT))
