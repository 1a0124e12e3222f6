"""Side-by-side table of training runs (their `training.json`), for the model card's comparison.

Usage: python bench/compare_runs.py var/run-a var/run-b ... > var/experiments.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from model.card import base_model_name, figure

# The settings the compared runs were varied by; the others keep TrainConfig's defaults.
SHOWN = (
    "frozen_layers",
    "epochs",
    "lr",
    "label_smoothing",
    "seed",
    "teachers",
    "news_repeat",
)
FIGURES = ("topic acc", "sentiment acc", "news acc", "news F1", "news neutral->neg")


def best_epoch(report: dict[str, Any]) -> dict[str, Any]:
    """The epoch training kept: the last one it marked best (model/training.py decides)."""
    return [h for h in report["history"] if h.get("best")][-1]


_FIGURE_KEYS = ("topic_accuracy", "sentiment_accuracy", "news_accuracy", "news_macro_f1")


def figures(record: dict[str, Any]) -> list[str]:
    """Tweet and news figures of an epoch record (or a teacher ensemble's); '-' where absent."""
    neutral = record.get("news_neutral_as_negative")
    return [
        *(figure(record.get(k)) for k in _FIGURE_KEYS),
        "-" if neutral is None else str(neutral),
    ]


def setting(cfg: dict[str, Any], key: str) -> str:
    if key == "teachers":
        return str(len(cfg.get("teachers") or []))
    if key == "news_repeat" and not cfg.get("news_file"):
        return "no news"
    return str(cfg.get(key, "-"))


def row(name: str, report: dict[str, Any]) -> list[str]:
    cfg, best = report["config"], best_epoch(report)
    settings = [setting(cfg, k) for k in SHOWN]
    minutes = sum(h["seconds"] for h in report["history"]) / 60
    ensemble = report.get("teacher_ensemble")
    teachers = " / ".join(figures(ensemble)) if ensemble else "-"
    base = base_model_name(cfg["base_model"])
    return [name, base, *settings, str(best["epoch"]), *figures(best), teachers, f"{minutes:.0f}"]


def table(runs: list[Path]) -> str:
    head = ["run", "base", *SHOWN, "best epoch", *FIGURES, "teachers' figures", "minutes"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for run in runs:
        report = json.loads((run / "training.json").read_text())
        lines.append("| " + " | ".join(row(run.name, report)) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="training output folders")
    print(table(parser.parse_args().runs), end="")


if __name__ == "__main__":
    main()
