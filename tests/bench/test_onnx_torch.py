"""The GPU check's torch module computes what the shipped ONNX graph computes: its figures stand
for the shipped model only if this holds (bench/gpu_check.py checks it again on each run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from bench.gpu_texts import Encoder  # noqa: E402
from bench.onnx_fp32 import fp32_copy  # noqa: E402
from bench.onnx_torch import torch_model  # noqa: E402
from model.artifact import GPU_MODEL, read_info  # noqa: E402

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "model" / "artifacts"
# Different lengths, so the short ones are padded: the mask must keep padding out.
TEXTS = [
    "Oil slides 4% as demand fears deepen",
    "Contoso Systems beats estimates, lifts outlook on strong sales of its new line $CTSO",
    "Fed minutes due Wednesday",
    "Litware Bank &amp; Northwind Foods agree merger https://t.co/abc $LWB $NWF",
]


def test_torch_module_matches_onnxruntime_on_the_same_weights() -> None:
    info = read_info(ARTIFACTS)
    encoder = Encoder.from_file(ARTIFACTS / "tokenizer.json", info.max_len)
    ids, mask = Encoder.pad(encoder.ids(TEXTS))
    session = ort.InferenceSession(
        fp32_copy(ARTIFACTS / GPU_MODEL), providers=["CPUExecutionProvider"]
    )
    expected = session.run(None, {"input_ids": ids, "attention_mask": mask})

    module = torch_model(ARTIFACTS / GPU_MODEL, info.pooling)
    with torch.inference_mode():
        got = module(torch.from_numpy(ids), torch.from_numpy(mask))

    assert mask.sum(1).min() < mask.shape[1], "the texts should need padding"
    for ours, theirs in zip(got, expected, strict=True):
        assert ours.shape == theirs.shape
        assert np.abs(ours.numpy() - theirs).max() < 1e-4
