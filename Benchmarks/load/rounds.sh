#!/usr/bin/env bash
# Issue 13's load benchmark, interleaved: each round runs `lockstep train --model linear
# --epochs 1` on the CSV and on the .npy (process start to exit), then pandas' read_csv(dtype=float32) of the same
# file in a fresh Python process; prints wall seconds and peak resident memory of each.
# Usage: Benchmarks/load/rounds.sh DIR [ROUNDS] [PYTHON]   (DIR from make-data.py; PYTHON with pandas)
# LOCKSTEP=path/to/lockstep runs that binary instead of building the release one.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1; rounds=${2:-3}; python=${3:-python3}
lockstep=${LOCKSTEP:-$here/.build/release/lockstep}
[ -n "${LOCKSTEP:-}" ] || (cd "$here" && swift build -c release --product lockstep >/dev/null)
checkpoints=$(mktemp -d); trap 'rm -rf "$checkpoints"' EXIT
for r in $(seq "$rounds"); do
  rm -rf "$checkpoints"/*
  /usr/bin/time -f "round $r lockstep train %e s %M KB" "$lockstep" train --data "$dir/load.csv" \
    --model linear --epochs 1 --task regression --quiet --save /dev/null --checkpoint-dir "$checkpoints" 2>&1 | tail -1
  rm -rf "$checkpoints"/*
  /usr/bin/time -f "round $r lockstep train (npy) %e s %M KB" "$lockstep" train --data "$dir/load.npy" \
    --model linear --epochs 1 --task regression --quiet --save /dev/null --checkpoint-dir "$checkpoints" 2>&1 | tail -1
  /usr/bin/time -f "round $r pandas read_csv %e s %M KB" "$python" -c \
    "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype='float32')" "$dir/load.csv" 2>&1 | tail -1
done
