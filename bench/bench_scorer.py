"""Headlines/s of the int8 ONNX Scorer vs the plain transformers/torch pipeline, and int8 vs fp32.

Texts are read at run time (never committed), e.g. the validation CSVs:

    python bench/bench_scorer.py --texts DATA/topic_valid.csv --data DATA \
        --fp32 /tmp/finsent-fp32/model.fp32.onnx --checkpoint var/checkpoint --repeats 5
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from model.evaluation import evaluate_scorer
from model.scorer import Scorer
from model.settings import ModelSettings


def read_texts(path: Path, limit: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        if path.suffix == ".csv":
            rows = csv.DictReader(f)
            texts = [r.get("text") or r.get("headline") or "" for r in rows]
        else:
            texts = [line.strip() for line in f if line.strip()]
    return texts[:limit] if limit else texts


def median_rate(run: Callable[[], object], n: int, repeats: int) -> tuple[float, list[float]]:
    run()  # warm-up: allocations, kernel selection
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates), rates


def torch_pipeline(
    checkpoint: Path | None, threads: int, batch: int, max_len: int, sort: bool
) -> Callable[[Sequence[str]], object]:
    """The plain way: transformers' fast tokenizer, padding per batch, torch inference."""
    import torch
    from transformers import AutoTokenizer

    from model.training import build_model, default_base_model, load_checkpoint

    torch.set_num_threads(threads)
    base = default_base_model()
    if checkpoint:
        model, _ = load_checkpoint(checkpoint)
    else:  # same architecture and cost; heads untrained
        model = build_model(base, "mean", 0.1, pretrained=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(base))

    def run(texts: Sequence[str]) -> object:
        order = sorted(texts, key=len) if sort else list(texts)
        out = []
        with torch.inference_mode():
            for i in range(0, len(order), batch):
                enc = tokenizer(
                    order[i : i + batch],
                    padding=True,
                    truncation=True,
                    max_length=max_len,
                    return_tensors="pt",
                )
                topic, sentiment = model(enc["input_ids"], enc["attention_mask"])
                out.append((topic.softmax(-1), sentiment.softmax(-1)))
        return out

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, required=True, help="CSV (text column) or lines")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--checkpoint", type=Path, help="torch checkpoint (finsent train --out)")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch pipeline")
    parser.add_argument("--data", type=Path, help="data folder: int8 vs fp32 validation accuracy")
    parser.add_argument("--fp32", type=Path, help="fp32 ONNX file (finsent export --keep-fp32)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--markdown", type=Path, help="write a markdown summary here")
    args = parser.parse_args()

    texts = read_texts(args.texts, args.limit)
    settings = ModelSettings(device="cpu", threads=args.threads, batch_size=args.batch_size)
    scorer = Scorer.from_settings(settings)
    result: dict[str, object] = {
        "texts": len(texts),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "cpu": _cpu_name(),
        "model": scorer.model_version,
    }
    rate, rates = median_rate(lambda: scorer.score_texts(texts), len(texts), args.repeats)
    result["onnx_int8_per_s"] = {"median": rate, "runs": rates}
    print(f"onnx int8 scorer: {rate:,.0f} headlines/s (median of {args.repeats})")
    if args.fp32:
        fp32 = Scorer.from_settings(settings, args.fp32)
        rate32, runs32 = median_rate(lambda: fp32.score_texts(texts), len(texts), args.repeats)
        result["onnx_fp32_per_s"] = {"median": rate32, "runs": runs32}
        print(f"onnx fp32 scorer: {rate32:,.0f} headlines/s")
    if not args.no_torch:
        for sort in (False, True):
            run = torch_pipeline(args.checkpoint, args.threads, args.batch_size, 64, sort)
            t_rate, t_runs = median_rate(lambda run=run: run(texts), len(texts), args.repeats)
            key = "torch_sorted_per_s" if sort else "torch_per_s"
            result[key] = {"median": t_rate, "runs": t_runs, "ratio": rate / t_rate}
            label = "length-sorted" if sort else "plain"
            print(f"torch {label}: {t_rate:,.0f} headlines/s; int8 is {rate / t_rate:.2f}x")
    if args.data:
        result["accuracy"] = _accuracy(scorer, args.data, settings, args.fp32)
        print(json.dumps(result["accuracy"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(_markdown(result))


def _accuracy(
    scorer: Scorer, data: Path, settings: ModelSettings, fp32: Path | None
) -> dict[str, dict[str, float]]:
    out = {"int8": {t: m.accuracy for t, m in evaluate_scorer(scorer, data).items()}}
    if fp32:
        ref = evaluate_scorer(Scorer.from_settings(settings, fp32), data)
        out["fp32"] = {t: m.accuracy for t, m in ref.items()}
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _markdown(r: dict[str, object]) -> str:
    def rate(key: str) -> str:
        v = r.get(key)
        return f"{v['median']:,.0f}" if isinstance(v, dict) else "not measured"

    lines = [
        f"CPU: {r['cpu']}, {r['threads']} threads, batch {r['batch_size']}, "
        f"{r['texts']} validation headlines, median of the runs, tokenisation included.",
        "",
        "| pipeline | headlines/s |",
        "| --- | --- |",
        f"| finsent Scorer, ONNX int8 | {rate('onnx_int8_per_s')} |",
        f"| finsent Scorer, ONNX fp32 | {rate('onnx_fp32_per_s')} |",
        f"| transformers + torch fp32, plain batches | {rate('torch_per_s')} |",
        f"| transformers + torch fp32, length-sorted batches | {rate('torch_sorted_per_s')} |",
    ]
    for key, label in (("torch_per_s", "plain"), ("torch_sorted_per_s", "length-sorted")):
        v = r.get(key)
        if isinstance(v, dict):
            lines.append(f"\nint8 Scorer vs torch ({label}): {v['ratio']:.2f}x")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
