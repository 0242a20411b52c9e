#!/usr/bin/env bash
# Issue 13's digits recipe end to end, interleaved: each round runs `lockstep train` (MLP 64, Adam,
# batch 32, 100 epochs, evaluate, save) and the same recipe in PyTorch with 1 and 2 intra-op
# threads (Benchmarks/reference/digits_recipe.py), each a fresh process; prints wall seconds, peak
# resident memory and test accuracy of each.
# Usage: Benchmarks/digits-rounds.sh [ROUNDS] [PYTHON]   (PYTHON with torch and numpy)
# LOCKSTEP=path/to/lockstep runs that binary instead of building the release one.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}; python=${2:-python3}
digits="$here/Tests/LockstepTests/Fixtures/digits.csv"
lockstep=${LOCKSTEP:-$here/.build/release/lockstep}
[ -n "${LOCKSTEP:-}" ] || (cd "$here" && swift build -c release --product lockstep >/dev/null)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  rm -rf "$work"/*
  accuracy=$("$lockstep" train --data "$digits" --model mlp:64 --optimizer adam --batch-size 32 --epochs 100 \
    --save "$work/d.safetensors" --checkpoint-dir "$work/checkpoints" 2>&1 | grep -o 'test accuracy [0-9.]*%' | tail -1)
  rm -rf "$work"/*
  /usr/bin/time -f "round $r lockstep %e s %M KB · ${accuracy//%/%%}" "$lockstep" train --data "$digits" --model mlp:64 \
    --optimizer adam --batch-size 32 --epochs 100 --quiet --save "$work/d.safetensors" --checkpoint-dir "$work/checkpoints" 2>&1 | tail -1
  for threads in 1 2; do
    /usr/bin/time -f "round $r pytorch $threads thread(s) %e s %M KB" -o "$work/time" "$python" \
      "$here/Benchmarks/reference/digits_recipe.py" "$digits" "$work/d.pt" --threads "$threads" > "$work/out"
    echo "$(cat "$work/time") · $(cat "$work/out")"
  done
done
