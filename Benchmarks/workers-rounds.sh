#!/usr/bin/env bash
# Workers beyond the cores (issue 13): samples/s of `--workers 8` over `--workers 2` on each workload,
# in interleaved rounds of one or two `lockstep` binaries (before and after a change): each round
# runs `lockstep bench --workload W --workers 2,8 --json` with binary A, then B. Prints each round's
# ratios and, per binary and workload, the median (min–max) over the rounds.
#
# Usage: Benchmarks/workers-rounds.sh ROUNDS WORKLOADS BIN_A [BIN_B]
#   e.g. Benchmarks/workers-rounds.sh 5 linreg,mlp-small,mlp-mnist,mlp-large /tmp/lockstep-old .build/release/lockstep
set -euo pipefail
rounds=$1; workloads=$2; shift 2
bins=("$@")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
  for b in "${!bins[@]}"; do
    "${bins[$b]}" bench --workload "$workloads" --workers 2,8 --repetitions 3 --seconds 0.5 --json > "$work/r$r-b$b.json" 2>/dev/null
  done
done
python3 - "$work" "$rounds" "${bins[@]}" <<'PY'
import json, statistics, sys
work, rounds, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ratios = {}
for r in range(1, rounds + 1):
    for b, name in enumerate(bins):
        d = json.load(open(f"{work}/r{r}-b{b}.json"))
        by = {(x["workload"], x["workers"]): x["samplesPerSecond"] for x in d["results"]}
        for w in dict.fromkeys(x["workload"] for x in d["results"]):
            ratio = by[(w, 8)] / by[(w, 2)]
            ratios.setdefault((name, w), []).append(ratio)
            print(f"round {r} {name} {w}: 2 workers {by[(w, 2)]:,.0f}/s, 8 workers {by[(w, 8)]:,.0f}/s, 8 ÷ 2 = {ratio:.2f}")
for (name, w), v in ratios.items():
    print(f"{name} {w}: 8 ÷ 2 workers median {statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f}) over {len(v)} rounds")
PY
