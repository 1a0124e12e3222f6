"""Distillation: a teacher ensemble's tempered predictions as soft targets, and the loss on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.labels import SENTIMENTS, TOPICS
from model.multitask import load_checkpoint
from model.training_config import TrainConfig
from model.training_data import Splits, load_tokenizer
from model.validation import Validation, metrics_from_scores, predict


@dataclass(frozen=True)
class SoftTargets:
    """Teacher probabilities at `temperature` for every training example, both tasks."""

    topic: torch.Tensor
    sentiment: torch.Tensor
    temperature: float


def ensemble_probabilities(
    teachers: Sequence[Path], texts: Sequence[str], temperature: float, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the teachers' tempered softmax outputs (an ensemble's soft labels).

    Each teacher reads the normalised texts through its own tokenizer and length, so a larger
    teacher of another family (MPNet) can teach the MiniLM student. A text repeated (the news
    training part is, `news_repeat` times) is predicted once."""
    unique = list(dict.fromkeys(texts))
    rows = {text: i for i, text in enumerate(unique)}
    topic = np.zeros((len(unique), len(TOPICS)), dtype=np.float32)
    sentiment = np.zeros((len(unique), len(SENTIMENTS)), dtype=np.float32)
    for path in teachers:
        teacher, meta = load_checkpoint(path)
        tok = load_tokenizer(path / "tokenizer.json", meta["max_len"])
        ids = [e.ids for e in tok.encode_batch(unique)]
        t, s = predict(teacher.to(device), ids, device)
        topic += torch.softmax(torch.from_numpy(t) / temperature, -1).numpy()
        sentiment += torch.softmax(torch.from_numpy(s) / temperature, -1).numpy()
    order = [rows[text] for text in texts]
    return topic[order] / len(teachers), sentiment[order] / len(teachers)


def teacher_targets(
    cfg: TrainConfig, splits: Splits, device: torch.device
) -> tuple[SoftTargets, dict[str, float | int]]:
    """Soft targets for the training set, and the ensemble's own validation figures."""
    n, v = len(splits.train.texts), len(splits.valid.texts)
    news_texts = splits.news.texts if splits.news else []
    topic, sentiment = ensemble_probabilities(
        cfg.teachers,
        splits.train.texts + splits.valid.texts + news_texts,
        cfg.distill_temperature,
        device,
    )
    tweets = metrics_from_scores(topic[n : n + v], sentiment[n : n + v], splits.valid)
    news = (
        metrics_from_scores(topic[n + v :], sentiment[n + v :], splits.news)["sentiment"]
        if splits.news
        else None
    )
    soft = SoftTargets(
        torch.from_numpy(topic[:n]).to(device),
        torch.from_numpy(sentiment[:n]).to(device),
        cfg.distill_temperature,
    )
    return soft, Validation(tweets, news).record()


def distill_loss(
    logits: tuple[torch.Tensor, torch.Tensor], targets: SoftTargets, batch: list[int]
) -> torch.Tensor:
    """KL(teacher || student) at the temperature, times T^2 (Hinton et al., 2015), both tasks."""
    rows = torch.as_tensor(batch, device=targets.topic.device)
    temp = targets.temperature
    total = torch.zeros((), device=targets.topic.device)
    for student, soft in ((logits[0], targets.topic[rows]), (logits[1], targets.sentiment[rows])):
        log_p = torch.log_softmax(student / temp, -1)
        total = total + nn.functional.kl_div(log_p, soft, reduction="batchmean") * temp**2
    return total
