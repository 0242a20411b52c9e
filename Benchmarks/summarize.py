"""Turns the output of compare.sh into the Markdown tables of RESULTS.md.

Usage: python Benchmarks/summarize.py OUT_DIR   (the folder compare.sh wrote)
"""
import json
import sys

out = sys.argv[1]
report = json.load(open(f"{out}/lockstep.json"))
peers = [json.loads(line) for line in open(f"{out}/peers.jsonl") if line.strip()]
workloads = ["linreg", "mlp-small", "mlp-mnist", "mlp-large"]
counts = sorted({r["workers"] for r in report["results"]})


def ours(w, n):
    return next((r for r in report["results"] if r["workload"] == w and r["workers"] == n), None)


def peer(w, impl, mode):
    return next((p["samples_per_s"] for p in peers if p["workload"] == w and p["impl"].startswith(impl) and p["mode"] == mode), None)


def fmt(x):
    return "—" if x is None else f"{x:,.0f}".replace(",", " ")


m = report["machine"]
print(f"Machine: {report['cpus']} CPUs · sgemm one thread {m['sgemmOneThread']:.1f} GFLOP/s, two threads "
      f"{m['sgemmTwoThreads']:.1f} GFLOP/s (×{m['sgemmTwoThreads'] / m['sgemmOneThread']:.2f}) · memcpy {m['memcpyGBps']:.1f} GB/s\n")
print("Training samples per second (median of 3 interleaved repetitions):\n")
print("| workload | " + " | ".join(f"Lockstep ×{n}" for n in counts) + " | PyTorch 1 thr | PyTorch 2 thr | DDP gloo ×2 | DDP gloo ×8 | JAX 1 thr | JAX all cores |")
print("|---|" + "---:|" * (len(counts) + 6))
for w in workloads:
    row = [fmt(ours(w, n)["samplesPerSecond"]) if ours(w, n) else "—" for n in counts]
    row += [fmt(peer(w, "pytorch", "1 thread")), fmt(peer(w, "pytorch", "2 threads")), fmt(peer(w, "pytorch", "ddp-gloo x2")),
            fmt(peer(w, "pytorch", "ddp-gloo x8")), fmt(peer(w, "jax", "jit, 1 thread")), fmt(peer(w, "jax", "jit, all cores"))]
    print(f"| {w} | " + " | ".join(row) + " |")

print("\nRatios, measured in the same session:\n")
print("| workload | Lockstep best (workers) | best peer | ratio |")
print("|---|---:|---|---:|")
for w in workloads:
    best = max((r for r in report["results"] if r["workload"] == w), key=lambda r: r["samplesPerSecond"], default=None)
    candidates = [(p["samples_per_s"], f"{p['impl']} {p['mode']}") for p in peers if p["workload"] == w]
    if best and candidates:
        value, name = max(candidates)
        print(f"| {w} | {fmt(best['samplesPerSecond'])} ({best['workers']}) | {name}: {fmt(value)} | ×{best['samplesPerSecond'] / value:.2f} |")

print("\nPhases at 2 workers (worker 0, one profiled repetition; without clipping the optimizer runs inside the reduce-scatter):\n")
print("| workload | compute | waiting for the other worker | reduce-scatter + optimizer | all-gather | all-reduce + optimizer | bus bandwidth |")
print("|---|---:|---:|---:|---:|---:|---:|")
for w in workloads:
    r = ours(w, 2)
    if not r:
        continue
    p = r["phases"]
    total = sum(p[k] for k in ["computeSeconds", "waitSeconds", "reduceScatterSeconds", "optimizerSeconds", "allGatherSeconds"])
    if total == 0:
        continue
    share = lambda k: f"{100 * p[k] / total:.1f}%"
    comm = 100 * (p["reduceScatterSeconds"] + p["optimizerSeconds"] + p["allGatherSeconds"]) / total
    bus = r.get("busBandwidthGBps")
    print(f"| {w} | {share('computeSeconds')} | {share('waitSeconds')} | {100 * (p['reduceScatterSeconds'] + p['optimizerSeconds']) / total:.1f}% | "
          f"{share('allGatherSeconds')} | {comm:.1f}% | {'—' if bus is None else f'{bus:.1f} GB/s'} |")
