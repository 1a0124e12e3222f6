"""The multi-task network (shared MiniLM encoder, topic head, sentiment head) and its checkpoint.

A checkpoint folder holds the weights, the encoder config, the tokenizer and the pooling settings.
"""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel

from model.labels import SENTIMENTS, TOPICS
from model.training_config import TrainConfig

CHECKPOINT_WEIGHTS = "model.pt"


class MultiTaskModel(nn.Module):
    """Shared encoder, pooled sentence vector, two linear heads (20 topics, 3 sentiments)."""

    def __init__(self, encoder: nn.Module, pooling: str = "mean", dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.topic_head = nn.Linear(hidden, len(TOPICS))
        self.sentiment_head = nn.Linear(hidden, len(SENTIMENTS))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads(hidden, attention_mask)

    def heads(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool the last hidden states and apply both heads."""
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.dropout(pooled)
        return self.topic_head(pooled), self.sentiment_head(pooled)

    def _layer_mask(self, attention_mask: torch.Tensor, hidden: torch.Tensor) -> Any:
        # A private helper of BertModel whose arguments change between transformers releases
        # (5.24 renamed `past_key_values` to `cache`, 5.25 added `position_ids`): pass those the
        # installed version takes; every optional one is None, meaning "no cache, default".
        make_masks = self.encoder._create_attention_masks
        given = {"attention_mask": attention_mask, "embedding_output": hidden}
        names = inspect.signature(make_masks).parameters
        return make_masks(**{name: given.get(name) for name in names})[0]

    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, k: int) -> torch.Tensor:
        """Hidden states after the embeddings and the first `k` layers."""
        hidden = self.encoder.embeddings(input_ids=input_ids)
        mask = self._layer_mask(attention_mask, hidden)
        for layer in self.encoder.encoder.layer[:k]:
            hidden = layer(hidden, mask)
        return hidden

    def upper(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, k: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Layers `k`.. and the heads, from `lower`'s output: forward == upper(lower(...))."""
        mask = self._layer_mask(attention_mask, hidden)
        for layer in self.encoder.encoder.layer[k:]:
            hidden = layer(hidden, mask)
        return self.heads(hidden, attention_mask)


def build_model(base_model: Path, pooling: str, dropout: float, pretrained: bool) -> MultiTaskModel:
    """The multi-task model on the base encoder (pretrained weights or only its config)."""
    if pretrained:
        encoder = AutoModel.from_pretrained(str(base_model), add_pooling_layer=False)
    else:
        # Eager attention exports to the plain MatMul/Softmax pattern that onnxruntime's
        # optimizer fuses into its Attention op (the SDPA export is left unfused, and slower).
        encoder = AutoModel.from_config(
            AutoConfig.from_pretrained(str(base_model)),
            add_pooling_layer=False,
            attn_implementation="eager",
        )
    return MultiTaskModel(encoder, pooling=pooling, dropout=dropout)


def save_checkpoint(model: MultiTaskModel, cfg: TrainConfig, tok_path: Path) -> None:
    """Weights, encoder config, tokenizer and the settings the exporter needs, in `output_dir`."""
    out = cfg.output_dir
    torch.save(
        {k: v.detach().cpu() for k, v in model.state_dict().items()}, out / CHECKPOINT_WEIGHTS
    )
    model.encoder.config.save_pretrained(str(out))
    shutil.copyfile(tok_path, out / "tokenizer.json")
    meta = {"pooling": cfg.pooling, "max_len": cfg.max_len, "dropout": cfg.dropout}
    (out / "checkpoint.json").write_text(json.dumps(meta, indent=2) + "\n")


def load_checkpoint(path: Path) -> tuple[MultiTaskModel, dict[str, Any]]:
    """The trained model (eval mode, CPU) and its checkpoint settings."""
    meta = json.loads((path / "checkpoint.json").read_text())
    model = build_model(path, meta["pooling"], meta["dropout"], pretrained=False)
    model.load_state_dict(torch.load(path / CHECKPOINT_WEIGHTS, map_location="cpu"))
    return model.eval(), meta
