"""A tiny randomly initialised BERT in MiniLM's shape, for fast training and export tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def make_tiny_base(folder: Path, family: str = "bert") -> Path:
    """Save a 2-layer, 32-wide encoder with MiniLM's vocabulary and tokenizer into `folder`: a
    BERT in MiniLM's shape, or an MPNet (the family of model 2.0's teacher)."""
    import torch
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    from model.training import default_base_model

    config_class, model_class = {
        "bert": (BertConfig, BertModel),
        "mpnet": (MPNetConfig, MPNetModel),
    }[family]
    torch.manual_seed(0)
    config = config_class(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,  # MPNet's positions start after its padding id
    )
    model_class(config, add_pooling_layer=False).save_pretrained(str(folder))
    shutil.copyfile(default_base_model() / "tokenizer.json", folder / "tokenizer.json")
    return folder


def write_tiny_news(path: Path) -> Path:
    """A FinEntity-shaped file of snippets written for these tests (one mixes polarities)."""
    snippets = [
        ("Acme Corp said quarterly revenue rose as demand held up.", ["Positive"]),
        ("Globex shares fell after the regulator opened an inquiry.", ["Negative"]),
        ("Initech will hold its annual meeting in May.", ["Neutral"]),
        ("Hooli and Vandelay signed a supply agreement.", ["Neutral", "Neutral"]),
        ("Umbrella gained while Cyberdyne slumped.", ["Positive", "Negative"]),
        ("Stark Industries cut its outlook for the year.", ["Negative"]),
    ]
    rows = [
        {
            "content": text,
            "annotations": [
                {"value": "x", "start": 0, "end": 1, "label": label} for label in labels
            ],
        }
        for text, labels in snippets
    ]
    path.write_text(json.dumps(rows))
    return path


def write_tiny_data(folder: Path) -> Path:
    """Four small CSVs in the data set's layout, with texts written for these tests."""
    topic_rows = [
        ("Fed raises rates again", 1),
        ("Company launches a new phone", 2),
        ("Oil jumps on supply cut", 6),
        ("Shares of the bank slide", 19),
    ]
    sentiment_rows = [
        ("Stocks crash on fears", 0),
        ("Profits soar to record", 1),
        ("Meeting set", 2),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid"):
        for task, rows in (("topic", topic_rows), ("sentiment", sentiment_rows)):
            lines = ["text,label", *(f'"{t}",{label}' for t, label in rows)]
            (folder / f"{task}_{split}.csv").write_text("\r\n".join(lines) + "\r\n")
    return folder
