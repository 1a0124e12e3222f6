"""Side-by-side table of training runs (their `training.json`), for the model card's comparison.

Usage: python bench/compare_runs.py var/run-a var/run-b ... > var/experiments.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# The settings the compared runs were varied by; the others keep TrainConfig's defaults.
SHOWN = (
    "frozen_layers",
    "epochs",
    "lr",
    "label_smoothing",
    "class_weight_power",
    "pooling",
    "seed",
    "teachers",
    "distill_weight",
)


def best_epoch(report: dict[str, Any]) -> dict[str, Any]:
    """The epoch training kept: the last one it marked best (model/training.py decides)."""
    return [h for h in report["history"] if h.get("best")][-1]


def row(name: str, report: dict[str, Any]) -> list[str]:
    cfg, best = report["config"], best_epoch(report)
    teachers = cfg.get("teachers") or []
    settings = [str(len(teachers)) if k == "teachers" else str(cfg.get(k, "-")) for k in SHOWN]
    minutes = sum(h["seconds"] for h in report["history"]) / 60
    ensemble = report.get("teacher_ensemble")
    teacher_acc = (
        f"{ensemble['topic_accuracy']:.4f} / {ensemble['sentiment_accuracy']:.4f}"
        if ensemble
        else "-"
    )
    return [
        name,
        *settings,
        str(best["epoch"]),
        f"{best['topic_accuracy']:.4f}",
        f"{best['sentiment_accuracy']:.4f}",
        teacher_acc,
        f"{minutes:.0f}",
    ]


def table(runs: list[Path]) -> str:
    head = ["run", *SHOWN, "best epoch", "topic acc", "sentiment acc", "teachers' acc", "minutes"]
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
