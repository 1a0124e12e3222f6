"""Logits in text order for torch and onnxruntime, argmax agreement, and time-boxed throughput
runs (headlines/s, p50/p99 batch latency) with tokenisation included and excluded."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from bench.gpu_texts import Encoder

Logits = tuple[np.ndarray, np.ndarray]
WARMUP_BATCHES = 3
DISTINCT_BATCHES = 8  # batches cycled through in a timed phase
SEED = 0


@dataclass
class Deadline:
    """The whole run's time budget: phases that would start after it are skipped."""

    budget_s: float
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return self.budget_s - self.elapsed()


def _in_text_order(
    run: Callable[[np.ndarray, np.ndarray], Logits],
    encoder: Encoder,
    texts: Sequence[str],
    batch: int,
) -> Logits:
    """Length-sorted batches, each padded to its own longest text, as the runtime scorer does."""
    ids = encoder.ids(texts)
    order = np.argsort([len(row) for row in ids], kind="stable")
    topic: np.ndarray | None = None
    sentiment: np.ndarray | None = None
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        t, s = run(*Encoder.pad([ids[i] for i in rows]))
        if topic is None or sentiment is None:
            topic = np.zeros((len(texts), t.shape[1]), np.float32)
            sentiment = np.zeros((len(texts), s.shape[1]), np.float32)
        topic[rows], sentiment[rows] = t, s
    if topic is None or sentiment is None:
        raise ValueError("no texts to score")
    return topic, sentiment


def ort_logits(
    session: ort.InferenceSession, encoder: Encoder, texts: Sequence[str], batch: int
) -> Logits:
    def run(ids: np.ndarray, mask: np.ndarray) -> Logits:
        t, s = session.run(
            ["topic_logits", "sentiment_logits"], {"input_ids": ids, "attention_mask": mask}
        )
        return np.asarray(t, np.float32), np.asarray(s, np.float32)

    return _in_text_order(run, encoder, texts, batch)


def torch_logits(
    module: torch.nn.Module,
    encoder: Encoder,
    texts: Sequence[str],
    device: torch.device,
    dtype: torch.dtype,
    batch: int,
) -> Logits:
    module = module.to(device=device, dtype=dtype)

    def run(ids: np.ndarray, mask: np.ndarray) -> Logits:
        t, s = _forward(module, torch.from_numpy(ids), torch.from_numpy(mask), device)
        return t.numpy(), s.numpy()

    return _in_text_order(run, encoder, texts, batch)


def _forward(
    module: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch to the device and its logits back (fp32, on the host: the copy waits for it)."""
    with torch.inference_mode():
        ids = ids.to(device, non_blocking=True)
        mask = mask.to(device, non_blocking=True)
        topic, sentiment = module(ids, mask)
        return topic.float().cpu(), sentiment.float().cpu()


def agreement(a: Logits, b: Logits) -> dict[str, float]:
    return {
        name: round(float((x.argmax(1) == y.argmax(1)).mean()), 4)
        for name, x, y in (("topic", a[0], b[0]), ("sentiment", a[1], b[1]))
    }


def _timed(call: Callable[[int], object], size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then time batches until `args.repeats` or `args.phase_s` is reached."""
    for i in range(WARMUP_BATCHES):
        call(i)
    latencies: list[float] = []
    phase_started = time.perf_counter()
    while len(latencies) < args.repeats and time.perf_counter() - phase_started < args.phase_s:
        started = time.perf_counter()
        call(len(latencies))
        latencies.append(time.perf_counter() - started)
    return _summary(latencies, size)


def _summary(latencies: list[float], size: int) -> dict[str, Any]:
    ms = np.array(latencies) * 1000
    return {
        "headlines_per_s": round(size * len(latencies) / (ms.sum() / 1000)),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "batches": len(latencies),
    }


def _text_batches(texts: Sequence[str], size: int) -> list[list[str]]:
    """DISTINCT_BATCHES batches of `size` texts from a seeded shuffle, cycling if needed."""
    pool = [texts[i] for i in np.random.default_rng(SEED).permutation(len(texts))]
    return [
        [pool[(b * size + k) % len(pool)] for k in range(size)] for b in range(DISTINCT_BATCHES)
    ]


def throughput(
    module: torch.nn.Module,
    encoder: Encoder,
    texts: Sequence[str],
    sizes: Sequence[int],
    device: torch.device,
    dtype: torch.dtype,
    args: argparse.Namespace,
    deadline: Deadline,
    ort_gpu: ort.InferenceSession | None = None,
) -> list[dict[str, Any]]:
    module = module.to(device=device, dtype=dtype)
    results: list[dict[str, Any]] = []
    for size in sizes:
        if deadline.left() < 4 * args.phase_s + 10:  # three modes, maybe onnxruntime
            results.append({"batch": size, "skipped": "time budget"})
            continue
        row = _batch_size_row(module, encoder, _text_batches(texts, size), device, args, ort_gpu)
        print(f"== batch {size}: {row}", flush=True)
        results.append(row)
    return results


def _batch_size_row(
    module: torch.nn.Module,
    encoder: Encoder,
    batches: list[list[str]],
    device: torch.device,
    args: argparse.Namespace,
    ort_gpu: ort.InferenceSession | None,
) -> dict[str, Any]:
    """Tokenisation included: normalise, tokenise, pad, copy, run, copy back, per batch.
    Excluded: the padded ids are ready in (pinned) host memory; copy, run, copy back."""
    size = len(batches[0])
    encoded = [_pinned(Encoder.pad(encoder.ids(b)), device) for b in batches]

    def included(i: int) -> object:
        ids, mask = Encoder.pad(encoder.ids(batches[i % len(batches)]))
        return _forward(module, torch.from_numpy(ids), torch.from_numpy(mask), device)

    def excluded(i: int) -> object:
        return _forward(module, *encoded[i % len(encoded)], device)

    row: dict[str, Any] = {
        "batch": size,
        "tokenisation_included": _timed(included, size, args),
        "tokenisation_excluded": _timed(excluded, size, args),
        "tokenisation_overlapped": _overlapped(module, encoder, batches, device, args),
    }
    if ort_gpu is not None:
        row["onnxruntime_cuda_excluded"] = _timed(_ort_call(ort_gpu, encoded), size, args)
    return row


def _overlapped(
    module: torch.nn.Module,
    encoder: Encoder,
    batches: list[list[str]],
    device: torch.device,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Tokenisation included, but batch i+1 is tokenised in a thread while batch i runs, as a
    pipelined consumer would; latency here is the interval between finished batches."""

    def prepare(i: int) -> tuple[np.ndarray, np.ndarray]:
        return Encoder.pad(encoder.ids(batches[i % len(batches)]))

    intervals: list[float] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        _forward(module, *(torch.from_numpy(a) for a in prepare(0)), device)  # warm-up
        upcoming = pool.submit(prepare, 0)
        started = last = time.perf_counter()
        while len(intervals) < args.repeats and last - started < args.phase_s:
            ids, mask = upcoming.result()
            upcoming = pool.submit(prepare, len(intervals) + 1)
            _forward(module, torch.from_numpy(ids), torch.from_numpy(mask), device)
            now = time.perf_counter()
            intervals.append(now - last)
            last = now
        upcoming.result()
    return _summary(intervals, len(batches[0]))


def _pinned(
    arrays: tuple[np.ndarray, np.ndarray], device: torch.device
) -> tuple[torch.Tensor, ...]:
    tensors = tuple(torch.from_numpy(a) for a in arrays)
    return tuple(t.pin_memory() for t in tensors) if device.type == "cuda" else tensors


def _ort_call(session: ort.InferenceSession, encoded: list[tuple[torch.Tensor, ...]]):
    feeds = [{"input_ids": ids.numpy(), "attention_mask": mask.numpy()} for ids, mask in encoded]

    def call(i: int) -> object:
        return session.run(None, feeds[i % len(feeds)])

    return call
