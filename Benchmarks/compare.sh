#!/usr/bin/env bash
# Runs Lockstep's benchmark and the PyTorch and JAX references one after another in one session,
# so that their ratios are comparable (this machine's speed drifts between sessions).
# Usage: Benchmarks/compare.sh [OUT_DIR]   (needs `pip install torch jax jaxlib`)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/compare}
mkdir -p "$out"
swift build -c release --product lockstep
.build/release/lockstep bench --workers 1,2,4,8 --repetitions 3 --seconds 1 --json > "$out/lockstep.json"
ref=Benchmarks/reference/workloads.py
: > "$out/peers.jsonl"
for w in linreg mlp-small mlp-mnist mlp-large; do
  steps=(); [ "$w" = mlp-large ] && steps=(--steps 20 --warmup 3)
  python3 $ref torch $w --threads 1 "${steps[@]}" >> "$out/peers.jsonl"
  python3 $ref torch $w --threads 2 "${steps[@]}" >> "$out/peers.jsonl"
  python3 $ref torch $w --ddp 2 "${steps[@]}" >> "$out/peers.jsonl"
  case $w in mlp-mnist|mlp-large) python3 $ref torch $w --ddp 8 "${steps[@]}" >> "$out/peers.jsonl" ;; esac
  XLA_FLAGS=--xla_cpu_multi_thread_eigen=false python3 $ref jax $w "${steps[@]}" >> "$out/peers.jsonl"
  python3 $ref jax $w "${steps[@]}" >> "$out/peers.jsonl"
done
echo "results in $out/lockstep.json and $out/peers.jsonl"
