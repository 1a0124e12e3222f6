"""Exports a trained checkpoint to ONNX: fp16 for GPU and per-channel int8 for CPU (extra `train`).

Each file is checked against the torch model on the same texts before it is written out.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from model.artifact import (
    CPU_MODEL,
    GPU_MODEL,
    INPUT_NAMES,
    METADATA_FILE,
    OUTPUT_NAMES,
    TOKENIZER_FILE,
    ArtifactInfo,
    write_labels,
)
from model.exceptions import ExportError
from model.text import NORMALIZATION, normalize_text
from model.training import MultiTaskModel, load_checkpoint, load_tokenizer, pad_batch

logger = logging.getLogger(__name__)

FP32_MODEL = "model.fp32.onnx"
FP32_TOLERANCE = 1e-4
NAME = "finsent-minilm-l6-topic-sentiment"


@dataclass(frozen=True)
class ExportReport:
    """How closely each exported file follows the torch model on the check texts."""

    fp32_max_abs_diff: float
    int8_topic_agreement: float
    int8_sentiment_agreement: float
    fp16_max_abs_diff: float | None
    files: dict[str, int]


def export_onnx_fp32(model: MultiTaskModel, path: Path, opset: int = 17) -> None:
    """Plain fp32 ONNX with dynamic batch and sequence axes."""
    ids = torch.ones((2, 8), dtype=torch.long)
    dynamic = {0: "batch", 1: "sequence"}
    axes = {name: dynamic for name in INPUT_NAMES} | {name: {0: "batch"} for name in OUTPUT_NAMES}
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids)),
        str(path),
        input_names=list(INPUT_NAMES),
        output_names=list(OUTPUT_NAMES),
        dynamic_axes=axes,
        opset_version=opset,
        dynamo=False,
    )


def optimize(src: Path, dst: Path, num_heads: int, hidden: int) -> object:
    """Fuse attention, LayerNorm and GELU with onnxruntime's transformer optimizer."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden)
    opt.save_model_to_file(str(dst))
    return opt


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic per-channel int8 weights; reduce_range avoids u8s8 saturation on non-VNNI x86."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=True,
        reduce_range=True,
        weight_type=QuantType.QInt8,
        # Fused contrib ops (FastGelu, SkipLayerNorm) defeat ONNX shape inference.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def torch_logits(model: MultiTaskModel, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    input_ids, mask = pad_batch(ids)
    with torch.no_grad():
        t, s = model(input_ids, mask)
    return t.numpy(), s.numpy()


def onnx_logits(path: Path, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    input_ids, mask = pad_batch(ids)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": input_ids.numpy(), "attention_mask": mask.numpy()}
    topic, sent = session.run(list(OUTPUT_NAMES), feeds)
    return np.asarray(topic, dtype=np.float32), np.asarray(sent, dtype=np.float32)


def max_abs_diff(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(1) == b.argmax(1)).mean())


def stamp_metadata(path: Path, info: ArtifactInfo) -> None:
    """Write the preprocessing settings into the ONNX file's own metadata too."""
    proto = onnx.load(str(path))
    for key, value in info.to_json().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(path))


def export(
    checkpoint: Path,
    out_dir: Path,
    check_texts: Sequence[str],
    version: str,
    work_dir: Path,
) -> ExportReport:
    """Export `checkpoint` into `out_dir` (int8 + fp16 + tokenizer + metadata), checked."""
    model, meta = load_checkpoint(checkpoint)
    tok = load_tokenizer(checkpoint / TOKENIZER_FILE, int(meta["max_len"]))
    ids = [e.ids for e in tok.encode_batch([normalize_text(t) for t in check_texts])]
    reference = torch_logits(model, ids)
    work_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw, fp32 = work_dir / "model.raw.onnx", work_dir / FP32_MODEL
    export_onnx_fp32(model, raw)
    cfg = model.encoder.config
    opt = optimize(raw, fp32, cfg.num_attention_heads, cfg.hidden_size)
    fp32_diff = max_abs_diff(reference, onnx_logits(fp32, ids))
    if fp32_diff > FP32_TOLERANCE:
        raise ExportError(f"fp32 ONNX differs from torch by {fp32_diff:.2e} > {FP32_TOLERANCE}")
    info = ArtifactInfo(NAME, version, int(meta["max_len"]), str(meta["pooling"]), NORMALIZATION)
    int8 = out_dir / CPU_MODEL
    quantize_int8(fp32, int8)
    q = onnx_logits(int8, ids)
    fp16 = out_dir / GPU_MODEL
    opt.convert_float_to_float16(keep_io_types=True)  # type: ignore[attr-defined]
    opt.save_model_to_file(str(fp16))  # type: ignore[attr-defined]
    fp16_diff = _try_fp16_on_cpu(fp16, ids, reference)
    for path in (int8, fp16):
        stamp_metadata(path, info)
    shutil.copyfile(checkpoint / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    write_labels(out_dir)
    (out_dir / METADATA_FILE).write_text(json.dumps(info.to_json(), indent=2) + "\n")
    return ExportReport(
        fp32_max_abs_diff=fp32_diff,
        int8_topic_agreement=agreement(reference[0], q[0]),
        int8_sentiment_agreement=agreement(reference[1], q[1]),
        fp16_max_abs_diff=fp16_diff,
        files={p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()},
    )


def _try_fp16_on_cpu(
    path: Path, ids: list[list[int]], reference: tuple[np.ndarray, np.ndarray]
) -> float | None:
    """fp16 is meant for CUDA; where the CPU provider lacks a kernel the check is skipped."""
    try:
        return max_abs_diff(reference, onnx_logits(path, ids))
    except Exception as e:  # onnxruntime raises untyped errors for missing fp16 kernels
        logger.warning("fp16 model not checked on CPU (%s)", str(e).splitlines()[0])
        return None
