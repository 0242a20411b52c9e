#!/usr/bin/env bash
# The step's collectives alone (reduce-scatter + all-gather, 4 KB … 64 MB) on 2 ranks, three ways,
# interleaved in rounds: 2 threads of one process; 2 MPI processes over shared memory (OpenMPI's
# vader); 2 MPI processes over TCP on loopback. Prints each round's JSON, then the median per size.
# Usage: Benchmarks/collectives-rounds.sh ROUNDS LOCKSTEP_BUILT_WITH_MPI
set -eu
ROUNDS=${1:-5}
BIN=$2
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
OUT=$(mktemp -d)
for r in $(seq 1 "$ROUNDS"); do
  "$BIN" bench --collectives --workers 2 --repetitions 9 --json > "$OUT/threads-$r.json"
  "${MPIRUN[@]}" --mca btl vader,self "$BIN" bench --collectives --workers 1 --repetitions 9 --json > "$OUT/shm-$r.json"
  "${MPIRUN[@]}" --mca btl tcp,self "$BIN" bench --collectives --workers 1 --repetitions 9 --json > "$OUT/tcp-$r.json"
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
def load(kind):
    runs = [json.load(open(f"{out}/{kind}-{r}.json"))[0]["results"] for r in range(1, rounds + 1)]
    return {row["bytes"]: [run[i] for run in runs] for i, row in enumerate(runs[0])}
print(f"median of {rounds} interleaved rounds (min–max): all-reduce µs | bus GB/s")
kinds = [("threads", "2 threads"), ("shm", "2 MPI processes, shared memory"), ("tcp", "2 MPI processes, TCP loopback")]
data = {k: load(k) for k, _ in kinds}
for k, title in kinds:
    print(title)
    for size, rows in data[k].items():
        t = [r["seconds"] * 1e6 for r in rows]; b = [r["busBandwidthGBps"] for r in rows]
        name = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        print(f"  {name:>6}  {statistics.median(t):10.1f} µs ({min(t):.1f}–{max(t):.1f})   {statistics.median(b):6.2f} GB/s ({min(b):.2f}–{max(b):.2f})")
PY
