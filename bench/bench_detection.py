"""Detection benchmark: false alarms, detection rate and delay of the shipped share rule on
synthetic series, beside the previous detector, in one run.

    .venv/bin/python bench/bench_detection.py [--days 300] [--bursts 200] [--seed 1]
    .venv/bin/python bench/bench_detection.py --sweep 0.1,0.3,1,3   # the trade-off curve

The new detector runs through `monitor.alerting.detector.judge` and `replay`, the code the live
evaluator and `finsent alerts backtest` run. Series: `detection_series.py`. A burst counts as
detected when an episode fires with its window ending within 30 minutes after the burst began;
the delay is that window end minus the burst start, in event minutes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from detection_series import Counts, quiet_series, with_burst
from previous_detector import fired_minutes

from monitor.alerting.detector import MINUTE, Series, detect, history_needed
from monitor.alerting.rules import Rule, load_rules

LEVELS = (2, 5, 10, 20, 50, 100, 150)  # items per 5 minutes
BURST_CELLS = tuple((level, extra) for level in (5, 20, 100) for extra in (15, 30, 60))
TARGET_CELLS = ((5, 15), (20, 30), (100, 60))
RULE = "ticker-negative-share"
T0 = datetime(2026, 1, 5, tzinfo=UTC)
DAY = 24 * 60
HORIZON = 30


@dataclass(frozen=True, slots=True)
class Fires:
    """Minutes (window ends) where each detector fired on one series."""

    new: list[int]
    old: list[int]


def fires(rule: Rule, counts: Counts, evaluate_from: int) -> Fires:
    negative, volume = counts.negative.astype(float), counts.volume.astype(float)
    seen = np.flatnonzero(volume > 0)
    series = Series(T0, negative, volume, negative, -negative, int(seen[0]) if seen.size else 0)
    after, until = T0 + evaluate_from * MINUTE, T0 + len(volume) * MINUTE
    episodes = detect(rule, series, after=after, until=until)
    new = [int((e.fired.window_end - T0) / MINUTE) for e in episodes]
    return Fires(new, fired_minutes(counts.negative, counts.volume, evaluate_from=evaluate_from))


def warm_up(rule: Rule) -> int:
    return max(int(history_needed(rule) / MINUTE), 245) + 5


def false_alarms(rule: Rule, rng: np.random.Generator, days: int) -> dict[int, tuple[float, float]]:
    """Per level: episodes per 100 series-days on series without bursts (new, previous)."""
    warm = warm_up(rule)
    out = {}
    for level in LEVELS:
        new = old = 0
        for _ in range(days):
            f = fires(rule, quiet_series(rng, level, warm + DAY), warm)
            new, old = new + len(f.new), old + len(f.old)
        out[level] = (100.0 * new / days, 100.0 * old / days)
    return out


@dataclass(frozen=True, slots=True)
class Detection:
    rate: float
    median_delay: float | None


def detection(
    rule: Rule, rng: np.random.Generator, level: int, extra: int, count: int
) -> tuple[Detection, Detection]:
    """Share of bursts caught and the median delay, (new, previous)."""
    warm = warm_up(rule)
    delays: tuple[list[int], list[int]] = ([], [])
    for _ in range(count):
        at = warm + 60 + int(rng.integers(0, 5 * 60))
        counts = with_burst(quiet_series(rng, level, at + HORIZON + 5), at, extra)
        f = fires(rule, counts, at - 1)
        for found, fired in zip(delays, (f.new, f.old), strict=True):
            hits = [m - at for m in fired if at < m <= at + HORIZON]
            if hits:
                found.append(hits[0])
    new, old = (Detection(len(d) / count, statistics.median(d) if d else None) for d in delays)
    return new, old


def shipped_rule() -> Rule:
    return next(r for r in load_rules() if r.name == RULE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=300, help="series-days per volume level")
    parser.add_argument("--bursts", type=int, default=200, help="bursts per (volume, size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sweep", help="comma-separated false-alarm budgets to try instead")
    args = parser.parse_args()
    rule = shipped_rule()
    started = time.perf_counter()
    if args.sweep:
        sweep(rule, [float(b) for b in args.sweep.split(",")], args)
    else:
        report(rule, args)
    print(f"\n({time.perf_counter() - started:.0f} s)")


def report(rule: Rule, args: argparse.Namespace) -> None:
    print(
        f"rule {rule.name}: window {rule.window_minutes} min every {rule.step_minutes} min, "
        f"baseline {rule.baseline_windows} windows, budget {rule.false_alarms_per_100_days:g} "
        f"false alarms per 100 series-days (z >= {rule.threshold:.2f})"
    )
    fa = false_alarms(rule, np.random.default_rng(args.seed), args.days)
    print(f"\nfalse alarms per 100 series-days ({args.days} series-days per level)")
    print("| items per 5 min | count-aware (new) | previous |")
    print("| ---: | ---: | ---: |")
    for level, (new, old) in fa.items():
        print(f"| {level} | {new:.2f} | {old:.2f} |")
    print(f"\nbursts of extra negatives over 3 minutes ({args.bursts} per cell)")
    print(
        "| items per 5 min | burst | detected (new) | median delay (new) | detected (previous) "
        "| median delay (previous) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    rng = np.random.default_rng(args.seed + 1)
    for level, extra in BURST_CELLS:
        new, old = detection(rule, rng, level, extra, args.bursts)
        mark = " (target)" if (level, extra) in TARGET_CELLS else ""
        print(
            f"| {level} | +{extra}{mark} | {new.rate:.0%} | {_minutes(new.median_delay)} "
            f"| {old.rate:.0%} | {_minutes(old.median_delay)} |"
        )


def sweep(rule: Rule, budgets: list[float], args: argparse.Namespace) -> None:
    print(
        "| budget | z | worst false alarms /100 days (level) | "
        + " | ".join(f"+{e} on {v}" for v, e in TARGET_CELLS)
        + " |"
    )
    print("| ---: | ---: | ---: | " + " | ".join("---:" for _ in TARGET_CELLS) + " |")
    for budget in budgets:
        tuned = rule.model_copy(update={"false_alarms_per_100_days": budget})
        fa = false_alarms(tuned, np.random.default_rng(args.seed), args.days)
        worst = max(fa, key=lambda level: fa[level][0])
        rng = np.random.default_rng(args.seed + 1)
        cells = [detection(tuned, rng, v, e, args.bursts)[0] for v, e in TARGET_CELLS]
        print(
            f"| {budget:g} | {tuned.threshold:.2f} | {fa[worst][0]:.2f} ({worst}) | "
            + " | ".join(f"{c.rate:.0%}, {_minutes(c.median_delay)}" for c in cells)
            + " |"
        )


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g} min"


if __name__ == "__main__":
    main()
