"""Scores a model on encoded examples: logits in input order, and metrics per task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.evaluation import TaskMetrics, neutral_as_negative, task_metrics
from model.labels import SENTIMENTS, TOPICS
from model.multitask import MultiTaskModel
from model.training_data import IGNORE, Encoded, pad_batch


@torch.no_grad()
def predict(
    model: MultiTaskModel, ids: Sequence[Sequence[int]], device: torch.device, batch: int = 128
) -> tuple[np.ndarray, np.ndarray]:
    """Topic and sentiment logits for every sequence, in input order."""
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    topic = np.zeros((len(ids), len(TOPICS)), dtype=np.float32)
    sentiment = np.zeros((len(ids), len(SENTIMENTS)), dtype=np.float32)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        input_ids, mask = pad_batch([ids[i] for i in rows])
        t, s = model(input_ids.to(device), mask.to(device))
        topic[rows] = t.float().cpu().numpy()
        sentiment[rows] = s.float().cpu().numpy()
    return topic, sentiment


def evaluate_encoded(
    model: MultiTaskModel, data: Encoded, device: torch.device
) -> dict[str, TaskMetrics]:
    """Metrics per task on the examples that carry that task's label."""
    return metrics_from_scores(*predict(model, data.ids, device), data)


def metrics_from_scores(
    topic: np.ndarray, sentiment: np.ndarray, data: Encoded
) -> dict[str, TaskMetrics]:
    """Metrics of per-class scores (logits or probabilities), one row per example of `data`."""
    has_t, has_s = data.topic != IGNORE, data.sentiment != IGNORE
    return {
        "topic": task_metrics(data.topic[has_t], topic[has_t].argmax(1), TOPICS),
        "sentiment": task_metrics(data.sentiment[has_s], sentiment[has_s].argmax(1), SENTIMENTS),
    }


@dataclass(frozen=True)
class Validation:
    """A model's figures on the tweet validation sets and, when given, the news dev set."""

    tweets: dict[str, TaskMetrics]
    news: TaskMetrics | None

    @property
    def selection_score(self) -> float:
        """What checkpoints and recipes are chosen by: the tweet tasks' mean accuracy, averaged
        with news sentiment accuracy when there is a news set (never the tweets alone then)."""
        tweets = (self.tweets["topic"].accuracy + self.tweets["sentiment"].accuracy) / 2
        return tweets if self.news is None else (tweets + self.news.accuracy) / 2

    def record(self) -> dict[str, float | int]:
        """Flat figures for a training report's epoch record."""
        out: dict[str, float | int] = {
            f"{task}_{k}": getattr(m, k)
            for task, m in self.tweets.items()
            for k in ("accuracy", "macro_f1")
        }
        if self.news is not None:
            out |= {
                "news_accuracy": self.news.accuracy,
                "news_macro_f1": self.news.macro_f1,
                "news_neutral_as_negative": neutral_as_negative(self.news),
            }
        return out


def validate(
    model: MultiTaskModel, valid: Encoded, news: Encoded | None, device: torch.device
) -> Validation:
    """The model's validation figures on the tweet sets and the news dev set."""
    news_metrics = evaluate_encoded(model, news, device)["sentiment"] if news else None
    return Validation(evaluate_encoded(model, valid, device), news_metrics)
