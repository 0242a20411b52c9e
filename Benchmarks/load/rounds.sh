#!/usr/bin/env bash
# Issue 13's load benchmark, interleaved: each round runs `lockstep train --model linear
# --epochs 1` on the CSV and on the .npy (process start to exit), then pandas' read_csv(dtype=float32) of the same
# file in a fresh Python process; prints wall seconds and peak resident memory of each.
# Usage: Benchmarks/load/rounds.sh DIR [ROUNDS] [PYTHON]   (DIR from make-data.py; PYTHON with pandas)
# LOCKSTEP=path/to/lockstep runs that binary instead of building the release one. LOCKSTEP_BEFORE=path
# adds a second binary (the build before a change) to every round: its CSV run, the CSV run, pandas,
# its NPY run, the NPY run.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1; rounds=${2:-3}; python=${3:-python3}
lockstep=${LOCKSTEP:-$here/.build/release/lockstep}
before=${LOCKSTEP_BEFORE:-}
[ -n "${LOCKSTEP:-}" ] || (cd "$here" && swift build -c release --product lockstep >/dev/null)
checkpoints=$(mktemp -d); trap 'rm -rf "$checkpoints"' EXIT
run() {   # run LABEL BINARY FILE
  rm -rf "${checkpoints:?}"/*
  /usr/bin/time -f "round $r $1 %e s %M KB" "$2" train --data "$3" \
    --model linear --epochs 1 --task regression --quiet --save /dev/null --checkpoint-dir "$checkpoints" 2>&1 | tail -1
}
for r in $(seq "$rounds"); do
  [ -z "$before" ] || run "before: lockstep train" "$before" "$dir/load.csv"
  run "lockstep train" "$lockstep" "$dir/load.csv"
  [ -n "$before" ] || run "lockstep train (npy)" "$lockstep" "$dir/load.npy"
  /usr/bin/time -f "round $r pandas read_csv %e s %M KB" "$python" -c \
    "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype='float32')" "$dir/load.csv" 2>&1 | tail -1
  if [ -n "$before" ]; then
    run "before: lockstep train (npy)" "$before" "$dir/load.npy"
    run "lockstep train (npy)" "$lockstep" "$dir/load.npy"
  fi
done
