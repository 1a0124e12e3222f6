#!/usr/bin/env bash
# Runs `finsent demo --no-browser --duration 180` N times (default 10), each on a fresh embedded
# database, and prints per run the alert lines and the closing line, then a tally; each run's
# whole output is kept in ${TMPDIR:-/tmp}/finsent-demo-run-N.log.
# Usage: bench/demo_runs.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
fired=0
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /var/tmp/finsent-demo-runs-XXXXXX)
  chmod 755 "$dir"  # the embedded server runs as postgres
  out=$(env -u FINSENT_DATABASE_URL .venv/bin/finsent demo --no-browser --port 0 \
        --duration 180 --data-dir "$dir" 2>&1)
  echo "$out" > "${TMPDIR:-/tmp}/finsent-demo-run-$i.log"
  echo "run $i:"
  echo "$out" | grep -E "ALERT|demo +stopped" | sed 's/^/  /'
  echo "$out" | grep -qE "ALERT +firing: Negative news spike on ticker NWF" && fired=$((fired + 1))
  rm -rf "$dir"
done
echo "the scripted ticker alert fired in $fired of $runs runs"
