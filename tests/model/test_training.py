"""A one-step training run on a few synthetic examples (needs the train extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from model.training import TrainConfig, load_checkpoint, train  # noqa: E402
from tests.model.tiny import make_tiny_base, write_tiny_data  # noqa: E402


@pytest.mark.parametrize("frozen_layers", [0, 1])
def test_one_step_smoke(tmp_path: Path, frozen_layers: int) -> None:
    base = make_tiny_base(tmp_path / "base")
    cfg = TrainConfig(
        data_dir=write_tiny_data(tmp_path / "data"),
        output_dir=tmp_path / "out",
        base_model=base,
        epochs=1,
        batch_size=4,
        max_steps=1,
        frozen_layers=frozen_layers,
        device="cpu",
    )
    report = train(cfg)
    (record,) = report["history"]
    assert record["steps"] == 1
    assert 0.0 <= record["topic_accuracy"] <= 1.0
    assert json.loads((tmp_path / "out" / "training.json").read_text())["history"]
    model, meta = load_checkpoint(tmp_path / "out")
    assert meta["max_len"] == cfg.max_len
    assert not model.training


def test_split_forward_matches_full_forward(tmp_path: Path) -> None:
    import torch

    from model.training import build_model

    model = build_model(make_tiny_base(tmp_path / "base"), "mean", 0.1, pretrained=True).eval()
    ids = torch.randint(1000, 2000, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    with torch.no_grad():
        full = model(ids, mask)
        split = model.upper(model.lower(ids, mask, 1), mask, 1)
    for a, b in zip(full, split, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
