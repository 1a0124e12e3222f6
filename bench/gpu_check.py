"""GPU check of the shipped model for an accelerator machine without network: headlines/s at batch
sizes 256..4096 (tokenisation included and excluded), p50/p99 batch latency, and argmax agreement
with the CPU int8 scorer on the validation sets. Run it through bench/gpu_check.sh.

The product scores on GPU with onnxruntime-gpu and model.fp16.onnx. That wheel (about 256 MB) does
not travel to the machine, so the same fp16 weights run as a PyTorch module (bench/onnx_torch.py)
in fp16 on CUDA. Before any figure, the module is checked against onnxruntime on the CPU (an fp32
copy of the same graph): that check is what makes the GPU figures stand for the shipped model.
Where onnxruntime does have the CUDA provider, the product's own path is measured as well.
Needs torch, transformers, tokenizers, onnx, onnxruntime and numpy; no package of ours installed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from bench.gpu_texts import Encoder, load_texts
from bench.gpu_timing import Deadline, agreement, ort_logits, throughput, torch_logits
from bench.onnx_fp32 import fp32_copy
from bench.onnx_torch import torch_model
from model.artifact import CPU_MODEL, GPU_MODEL, read_info

REPO = Path(__file__).resolve().parent.parent
QUICK = {"batch_sizes": "16,32,64", "limit": 256, "phase_s": 3.0, "repeats": 20, "budget_s": 240}
PARITY_TOLERANCE = 1e-3  # max |logit| difference, torch fp32 vs onnxruntime fp32, same weights


def arguments(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    p.add_argument("--quick", action="store_true", help="small run (CPU smoke test)")
    p.add_argument("--data", type=Path, help="folder with topic_valid.csv, sentiment_valid.csv")
    p.add_argument("--model-dir", type=Path, default=REPO / "model" / "artifacts")
    p.add_argument("--batch-sizes", default="256,512,1024,2048,4096")
    p.add_argument("--limit", type=int, default=0, help="use only the first N texts (0: all)")
    p.add_argument("--budget-s", type=float, default=420, help="stop starting phases after this")
    p.add_argument("--phase-s", type=float, default=10, help="time per batch size and mode")
    p.add_argument("--repeats", type=int, default=200, help="most timed batches per phase")
    p.add_argument("--int8-reference", type=Path, help="int8 logits saved by a CPU run")
    p.add_argument(
        "--save-int8-reference", type=Path, help="only compute the int8 logits, save them here"
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    if args.quick:  # smaller defaults; options given on the command line still win
        for name, value in QUICK.items():
            if getattr(args, name) == p.get_default(name):
                setattr(args, name, value)
    return args


def environment(device: torch.device) -> dict[str, Any]:
    on_gpu = device.type == "cuda"
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(device) if on_gpu else "cpu",
        "onnxruntime": ort.__version__,
        "onnxruntime_providers": ort.get_available_providers(),
        "cpu_threads": torch.get_num_threads(),
    }


def cpu_session(model: str | bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def parity(module: torch.nn.Module, fp32: ort.InferenceSession, encoder: Encoder, texts: list[str]):
    """torch fp32 on the CPU against onnxruntime fp32 on the CPU, same weights, same inputs."""
    ours = torch_logits(module, encoder, texts, torch.device("cpu"), torch.float32, batch=64)
    theirs = ort_logits(fp32, encoder, texts, batch=64)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs, strict=True))
    agree = agreement(ours, theirs)
    return {"texts": len(texts), "max_abs_logit_diff": diff, "argmax_agreement": agree}


def int8_logits(args: argparse.Namespace, encoder: Encoder, texts: list[str], digest: str):
    """The CPU int8 scorer's logits: computed when its file is here, else read from a CPU run."""
    path = args.model_dir / CPU_MODEL
    if path.is_file():
        logits = ort_logits(cpu_session(str(path)), encoder, texts, batch=64)
        if args.save_int8_reference:
            args.save_int8_reference.parent.mkdir(parents=True, exist_ok=True)
            np.savez(args.save_int8_reference, topic=logits[0], sentiment=logits[1], digest=digest)
        return logits, f"computed ({path.name}, onnxruntime CPU)"
    if args.int8_reference and args.int8_reference.is_file():
        saved = np.load(args.int8_reference)
        if str(saved["digest"]) != digest:
            return None, f"{args.int8_reference} was made on other texts: not compared"
        return (saved["topic"], saved["sentiment"]), f"read from {args.int8_reference}"
    return None, f"{path} absent and no --int8-reference: not compared"


def main(argv: list[str]) -> int:
    args = arguments(argv)
    deadline = Deadline(args.budget_s)
    want_gpu = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if want_gpu else "cpu")
    dtype = torch.float16 if want_gpu else torch.float32
    report: dict[str, Any] = {"environment": environment(device), "dtype": str(dtype)}
    say("environment", report["environment"])

    info = read_info(args.model_dir)
    encoder = Encoder.from_file(args.model_dir / "tokenizer.json", info.max_len)
    corpus = load_texts(args.data, REPO, args.limit)
    report["texts"] = corpus.describe()
    say("texts", report["texts"])
    if args.save_int8_reference:
        # Only the reference, for a GPU machine the int8 file cannot travel to.
        logits, how = int8_logits(args, encoder, corpus.texts, corpus.digest)
        saved = logits is not None
        say("int8 reference", f"{how}; saved to {args.save_int8_reference}" if saved else how)
        return 0 if saved else 1

    started = time.perf_counter()
    module = torch_model(args.model_dir / GPU_MODEL, info.pooling)
    fp32 = cpu_session(fp32_copy(args.model_dir / GPU_MODEL))
    report["build_s"] = round(time.perf_counter() - started, 1)
    check = parity(module, fp32, encoder, corpus.texts[: min(256, len(corpus.texts))])
    check["passed"] = check["max_abs_logit_diff"] <= PARITY_TOLERANCE
    report["parity_torch_vs_onnxruntime_fp32_cpu"] = check
    say("parity: torch module vs onnxruntime, fp32, CPU", check)
    if not check["passed"]:
        say("FAILED", "the torch module does not reproduce the ONNX graph; no figures printed")
        return write(args, report, 1)

    module = module.to(device=device, dtype=dtype)
    report["agreement"] = agreements(args, module, fp32, encoder, corpus, device, dtype, deadline)
    say("agreement (argmax, same texts)", report["agreement"])

    ort_gpu, report["runtime_path"] = product_gpu_session(args, device)
    say("runtime path", report["runtime_path"])
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    report["throughput"] = throughput(
        module, encoder, corpus.texts, sizes, device, dtype, args, deadline, ort_gpu
    )
    report["goal_headlines_per_s"] = 100_000
    report["elapsed_s"] = round(deadline.elapsed(), 1)
    say("done", f"{report['elapsed_s']} s")
    return write(args, report, 0)


def product_gpu_session(args: argparse.Namespace, device: torch.device):
    """onnxruntime with the CUDA provider on model.fp16.onnx, where it is installed."""
    if device.type != "cuda":
        return None, "CPU run: torch fp32 on the CPU (a smoke test, not a GPU figure)"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return None, (
            "onnxruntime has no CUDA provider here (onnxruntime-gpu did not travel): the product's "
            "GPU path was NOT measured; the figures are the same fp16 weights run by PyTorch"
        )
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    session = ort.InferenceSession(str(args.model_dir / GPU_MODEL), providers=providers)
    return session, "onnxruntime-gpu measured too (rows onnxruntime_cuda_excluded)"


def agreements(args, module, fp32, encoder, corpus, device, dtype, deadline) -> dict[str, Any]:
    """Device argmax against CPU int8, CPU fp32 (same weights) and CPU fp16 ORT, and the labels."""
    texts = corpus.texts
    ours = torch_logits(module, encoder, texts, device, dtype, batch=256)
    result: dict[str, Any] = {"device": f"{device.type} {dtype}", "texts": len(texts)}
    result["accuracy_vs_labels"] = corpus.accuracy(ours)
    int8, how = int8_logits(args, encoder, texts, corpus.digest)
    result["int8_reference"] = how
    if int8 is not None:
        result["vs_cpu_int8"] = agreement(ours, int8)
        result["cpu_int8_accuracy_vs_labels"] = corpus.accuracy(int8)
    result["vs_cpu_fp32_same_weights"] = agreement(ours, ort_logits(fp32, encoder, texts, 64))
    if deadline.left() > 120:
        fp16 = cpu_session(str(args.model_dir / GPU_MODEL))
        result["vs_cpu_fp16_onnx"] = agreement(ours, ort_logits(fp16, encoder, texts, 64))
    else:
        result["vs_cpu_fp16_onnx"] = "skipped: time budget"
    return result


def say(title: str, value: object) -> None:
    shown = json.dumps(value, indent=2) if isinstance(value, dict | list) else str(value)
    print(f"== {title}\n{shown}", flush=True)


def write(args: argparse.Namespace, report: dict[str, Any], code: int) -> int:
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
