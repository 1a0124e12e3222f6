"""Classification metrics per task (accuracy, macro-F1, per-class precision/recall, confusion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from model.data import Example, Task, read_task
from model.labels import NEGATIVE, NEUTRAL, SENTIMENTS, TOPICS
from model.news import news_part

if TYPE_CHECKING:
    from model.scorer import Scorer


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """Precision, recall and F1 of one class, with its number of true examples."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class TaskMetrics:
    """All metrics of one task; `confusion[i][j]` counts true class i predicted as j."""

    accuracy: float
    macro_f1: float
    classes: tuple[ClassMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]
    n: int


def task_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, names: Sequence[str]) -> TaskMetrics:
    """Compute metrics from integer labels; classes absent from both sides score 0."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has {p.shape}")
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (t, p), 1)
    tp = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(0), confusion.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    classes = tuple(
        ClassMetrics(names[i], float(precision[i]), float(recall[i]), float(f1[i]), int(actual[i]))
        for i in range(k)
    )
    return TaskMetrics(
        accuracy=float(tp.sum() / max(1, len(t))),
        macro_f1=float(f1.mean()),
        classes=classes,
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        n=len(t),
    )


NEWS_TASK = "news sentiment"


def evaluate_scorer(
    scorer: Scorer, data_dir: Path, news_file: Path | None = None
) -> dict[str, TaskMetrics]:
    """Metrics of an exported model on both tweet validation files and, given FinEntity.json,
    on the news development set (sentiment only: the news data has no topic labels)."""
    metrics = {
        task: _head_metrics(scorer, read_task(data_dir, task, "valid"), task)
        for task in ("topic", "sentiment")
    }
    if news_file is not None:
        metrics[NEWS_TASK] = _head_metrics(scorer, news_part(news_file, "dev"), "sentiment")
    return metrics


def _head_metrics(scorer: Scorer, examples: Sequence[Example], task: Task) -> TaskMetrics:
    """The metrics of the `task` head of `scorer` on labelled `examples`."""
    topic_p, sent_p = scorer.probabilities([ex.text for ex in examples])
    probabilities, names = (topic_p, TOPICS) if task == "topic" else (sent_p, SENTIMENTS)
    truth = [label for ex in examples if (label := getattr(ex, task)) is not None]
    return task_metrics(truth, probabilities.argmax(1), names)


def neutral_as_negative(metrics: TaskMetrics) -> int:
    """How many neutral texts a sentiment model called negative (what inflates alerts)."""
    return metrics.confusion[NEUTRAL][NEGATIVE]


def metrics_json(metrics: dict[str, TaskMetrics]) -> dict[str, Any]:
    return {task: asdict(m) for task, m in metrics.items()}
