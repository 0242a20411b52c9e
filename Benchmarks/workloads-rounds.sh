#!/usr/bin/env bash
# DESIGN.md §5's workloads against the peers in interleaved rounds (issue 13): each round runs, per
# workload, Lockstep's best of 1 and 2 workers, JAX jit on all cores and with one Eigen thread, and
# PyTorch with 1 and 2 threads, one after the other; then prints, per workload, Lockstep ÷ the
# best peer of the same round, median (min–max) over the rounds, beside DESIGN.md's target.
# Usage: Benchmarks/workloads-rounds.sh [ROUNDS] [PYTHON]   (PYTHON with torch and jax installed)
# LOCKSTEP=path/to/lockstep runs that binary instead of building the release one; WORKLOADS="mlp-large"
# (space-separated) runs only those.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}; python=${2:-python3}
workloads=${WORKLOADS:-linreg mlp-small mlp-mnist mlp-large}
lockstep=${LOCKSTEP:-$here/.build/release/lockstep}
[ -n "${LOCKSTEP:-}" ] || (cd "$here" && swift build -c release --product lockstep >/dev/null)
ref=$here/Benchmarks/reference/workloads.py
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  for w in $workloads; do
    steps=(); [ "$w" = mlp-large ] && steps=(--steps 20 --warmup 3)
    "$lockstep" bench --workload "$w" --workers 1,2 --repetitions 3 --seconds 1 --json > "$work/r$r-$w-lockstep.json" 2>/dev/null
    {
      "$python" "$ref" jax "$w" "${steps[@]}"
      XLA_FLAGS=--xla_cpu_multi_thread_eigen=false "$python" "$ref" jax "$w" "${steps[@]}"
      "$python" "$ref" torch "$w" --threads 1 "${steps[@]}"
      "$python" "$ref" torch "$w" --threads 2 "${steps[@]}"
    } > "$work/r$r-$w-peers.jsonl" 2>/dev/null
  done
done
python3 - "$work" "$rounds" $workloads <<'PY'
import json, statistics, sys
work, rounds, chosen = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
targets = {"linreg": 1.10, "mlp-small": 1.05, "mlp-mnist": 1.10, "mlp-large": 1.15}
for w, target in ((w, t) for w, t in targets.items() if w in chosen):
    ratios = []
    for r in range(1, rounds + 1):
        ours = json.load(open(f"{work}/r{r}-{w}-lockstep.json"))["results"]
        best_ours = max(ours, key=lambda x: x["samplesPerSecond"])
        peers = [json.loads(line) for line in open(f"{work}/r{r}-{w}-peers.jsonl") if line.strip()]
        best_peer = max(peers, key=lambda p: p["samples_per_s"])
        ratio = best_ours["samplesPerSecond"] / best_peer["samples_per_s"]
        ratios.append(ratio)
        print(f"round {r} {w}: Lockstep {best_ours['workers']} workers {best_ours['samplesPerSecond']:,.0f}/s; "
              + "; ".join(f"{p['impl']} {p['mode']} {p['samples_per_s']:,.0f}/s" for p in peers)
              + f"; ÷ best peer = {ratio:.2f}")
    print(f"{w}: Lockstep ÷ best peer median {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) "
          f"over {rounds} rounds; target ≥ {target:.2f}")
PY
