#!/usr/bin/env bash
# The `transformer` workload (Examples/ByteLM's byte-level GPT) beside its peers, interleaved:
# each round runs Lockstep (1 and 2 workers), PyTorch (1 and 2 threads) and JAX (jit of the whole
# step, buffers donated, all cores) one after another, so a slow spell of this machine's second
# vCPU touches a round, not one contender. Prints each round in tokens/s and the median (min–max)
# of the per-round ratios of Lockstep's best worker count to each peer.
# Usage: Benchmarks/transformer-rounds.sh [ROUNDS] [PYTHON]   (PYTHON with torch, jax and jaxlib)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
python=${2:-python3}
out=$(mktemp -d)
swift build -c release --product lockstep >/dev/null
ref=Benchmarks/reference/transformer.py
for r in $(seq "$rounds"); do
  .build/release/lockstep bench --workload transformer --workers 1,2 --repetitions 1 --seconds 3 --json > "$out/lockstep-$r.json"
  "$python" $ref torch --threads 1 --steps 60 --warmup 10 >> "$out/peers-$r.jsonl"
  "$python" $ref torch --threads 2 --steps 60 --warmup 10 >> "$out/peers-$r.jsonl"
  "$python" $ref jax --steps 60 --warmup 10 >> "$out/peers-$r.jsonl"
done
"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ratios, rows = {}, []
for r in range(1, rounds + 1):
    ours = {x["workers"]: x["tokensPerSecond"] for x in json.load(open(f"{out}/lockstep-{r}.json"))["results"]}
    best = max(ours.values())
    peers = {f"{p['impl'].split('-')[0]} {p['mode']}": p["tokens_per_s"] for p in map(json.loads, open(f"{out}/peers-{r}.jsonl"))}
    rows.append(f"round {r} (tokens/s): Lockstep " + ", ".join(f"×{n} {v:.0f}" for n, v in sorted(ours.items()))
                + " | " + ", ".join(f"{k} {v:.0f}" for k, v in peers.items()))
    for k, v in peers.items():
        ratios.setdefault(k, []).append(best / v)
    ratios.setdefault("Lockstep 1 worker / pytorch 1 thread", []).append(ours[1] / peers["pytorch 1 thread"])
print("\n".join(rows))
for k, v in ratios.items():
    name = k if k.startswith("Lockstep") else f"Lockstep best / {k}"
    print(f"{name}: median {statistics.median(v):.2f} (min {min(v):.2f}, max {max(v):.2f}) over {len(v)} rounds")
PY
