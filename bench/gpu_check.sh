#!/usr/bin/env bash
# GPU check of the shipped model (see bench/gpu_check.py): run from anywhere, no network needed.
#   bash bench/gpu_check.sh                          # on the GPU machine, under 8 minutes
#   bash bench/gpu_check.sh --device cpu --quick     # smoke test on a CPU, a few minutes
# PYTHON picks the interpreter (default python3); other options: python3 bench/gpu_check.py -h
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec timeout --signal=TERM --kill-after=10s 470s "${PYTHON:-python3}" bench/gpu_check.py "$@"
