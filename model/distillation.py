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
from model.training_data import Encoded
from model.validation import metrics_from_scores, predict


@dataclass(frozen=True)
class SoftTargets:
    """Teacher probabilities at `temperature` for every training example, both tasks."""

    topic: torch.Tensor
    sentiment: torch.Tensor
    temperature: float


def ensemble_probabilities(
    teachers: Sequence[Path], ids: Sequence[Sequence[int]], temperature: float, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the teachers' tempered softmax outputs (an ensemble's soft labels)."""
    topic = np.zeros((len(ids), len(TOPICS)), dtype=np.float32)
    sentiment = np.zeros((len(ids), len(SENTIMENTS)), dtype=np.float32)
    for path in teachers:
        teacher, _ = load_checkpoint(path)
        t, s = predict(teacher.to(device), ids, device)
        topic += torch.softmax(torch.from_numpy(t) / temperature, -1).numpy()
        sentiment += torch.softmax(torch.from_numpy(s) / temperature, -1).numpy()
    return topic / len(teachers), sentiment / len(teachers)


def teacher_targets(
    cfg: TrainConfig, train_data: Encoded, valid_data: Encoded, device: torch.device
) -> tuple[SoftTargets, dict[str, float]]:
    """Soft targets for the training set, and the ensemble's own validation accuracy."""
    n = len(train_data.ids)
    topic, sentiment = ensemble_probabilities(
        cfg.teachers, train_data.ids + valid_data.ids, cfg.distill_temperature, device
    )
    metrics = metrics_from_scores(topic[n:], sentiment[n:], valid_data)
    accuracy = {f"{task}_accuracy": m.accuracy for task, m in metrics.items()}
    soft = SoftTargets(
        torch.from_numpy(topic[:n]).to(device),
        torch.from_numpy(sentiment[:n]).to(device),
        cfg.distill_temperature,
    )
    return soft, accuracy


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
