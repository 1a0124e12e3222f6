"""The loss each training step minimises, and the optimiser and schedule that minimise it.

Masked cross-entropy per task; layer-wise learning rates, linear warm-up, then cosine decay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from model.multitask import MultiTaskModel
from model.training_config import TrainConfig
from model.training_data import IGNORE, Encoded


def class_weights(counts: Sequence[int], power: float) -> torch.Tensor:
    """(max / count) ** power, normalised to mean 1; power 0 gives equal weights."""
    c = np.maximum(np.array(counts, dtype=np.float64), 1.0)
    w = (c.max() / c) ** power
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def task_losses(
    topic_counts: Sequence[int], cfg: TrainConfig, device: torch.device
) -> tuple[nn.Module, nn.Module]:
    """Cross-entropy per task; rare topics weigh more, as `class_weight_power` sets."""
    return (
        nn.CrossEntropyLoss(
            weight=class_weights(topic_counts, cfg.class_weight_power).to(device),
            label_smoothing=cfg.label_smoothing,
        ),
        nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
    )


def task_loss(
    logits: tuple[torch.Tensor, torch.Tensor],
    batch: list[int],
    data: Encoded,
    losses: tuple[nn.Module, nn.Module],
    device: torch.device,
) -> torch.Tensor:
    """Sum of the two tasks' losses, each over the examples that carry its label (masked)."""
    total = torch.zeros((), device=device)
    for task_logits, labels, loss_fn in (
        (logits[0], data.topic[batch], losses[0]),
        (logits[1], data.sentiment[batch], losses[1]),
    ):
        keep = labels != IGNORE
        if keep.any():
            target = torch.as_tensor(labels[keep], device=device)
            total = total + loss_fn(task_logits[torch.as_tensor(keep, device=device)], target)
    return total


def param_groups(model: MultiTaskModel, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Layer-wise learning rates: the top layer gets `lr`, each lower one `layer_decay` x less."""
    n_layers = model.encoder.config.num_hidden_layers
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if not name.startswith("encoder."):
            lr = cfg.head_lr
        elif ".layer." in name:
            depth = int(name.split(".layer.")[1].split(".")[0])
            lr = cfg.lr * cfg.layer_decay ** (n_layers - 1 - depth)
        else:
            lr = cfg.lr * cfg.layer_decay**n_layers
        no_decay = param.ndim == 1
        groups.setdefault((lr, 0.0 if no_decay else cfg.weight_decay), []).append(param)
    return [{"params": p, "lr": lr, "weight_decay": wd} for (lr, wd), p in groups.items()]


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class Schedule:
    """AdamW over the layer-wise groups, with each group's base rate and the run's step budget."""

    optimizer: torch.optim.Optimizer
    base_lrs: list[float]
    warmup: int
    total: int

    def set_lr(self, step: int) -> None:
        """Set every group's learning rate for `step`."""
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * lr_factor(step, self.warmup, self.total)


def schedule(model: MultiTaskModel, cfg: TrainConfig, n_examples: int) -> Schedule:
    """AdamW for `max_steps`, or all epochs' steps, the first `warmup_ratio` of them warm-up."""
    optimizer = torch.optim.AdamW(param_groups(model, cfg))
    base_lrs = [g["lr"] * cfg.lr_scale for g in optimizer.param_groups]
    steps_per_epoch = math.ceil(n_examples / cfg.batch_size)
    total = cfg.max_steps or steps_per_epoch * cfg.epochs
    return Schedule(optimizer, base_lrs, warmup=int(cfg.warmup_ratio * total), total=total)
