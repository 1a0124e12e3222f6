"""Frozen lower encoder layers: their outputs are computed once, and training runs the rest."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from model.multitask import MultiTaskModel
from model.training_data import Encoded, pad_batch


def freeze_lower(model: MultiTaskModel, k: int) -> None:
    """Freeze the embeddings and the first `k` layers (their outputs are then cached)."""
    for module in (model.encoder.embeddings, *model.encoder.encoder.layer[:k]):
        for param in module.parameters():
            param.requires_grad_(False)


@torch.no_grad()
def lower_states(
    model: MultiTaskModel, ids: Sequence[Sequence[int]], k: int, device: torch.device
) -> list[torch.Tensor]:
    """Each sequence's hidden states after the frozen layers, unpadded, computed once.

    Training then runs only the upper layers: on a small CPU this halves the cost of an epoch,
    and it is exact, since padded positions never reach real ones through the attention mask.
    """
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    states: list[torch.Tensor] = [torch.empty(0)] * len(ids)
    for start in range(0, len(order), 128):
        rows = order[start : start + 128]
        input_ids, mask = pad_batch([ids[i] for i in rows])
        hidden = model.lower(input_ids.to(device), mask.to(device), k)
        for r, i in enumerate(rows):
            states[i] = hidden[r, : len(ids[i])].clone()
    return states


def forward_batch(
    model: MultiTaskModel,
    batch: list[int],
    data: Encoded,
    cache: list[torch.Tensor] | None,
    k: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both heads' logits for `batch`, from the cached frozen-layer outputs where there are any."""
    input_ids, mask = pad_batch([data.ids[i] for i in batch])
    mask = mask.to(device)
    if cache is None:
        return model(input_ids.to(device), mask)
    hidden = torch.nn.utils.rnn.pad_sequence([cache[i] for i in batch], batch_first=True)
    return model.upper(hidden, mask, k)
