"""Turns the output of compare.sh into the Markdown tables of RESULTS.md.

Usage: python Benchmarks/summarize.py OUT_DIR [OUT_DIR ...]   (folders compare.sh wrote; several
sessions give a table each and a summary of the targets across them)
"""
import json
import os
import statistics
import sys

WORKLOADS = ["linreg", "mlp-small", "mlp-mnist", "mlp-large"]
PEERS = [("pytorch", "1 thread", "PyTorch 1 thr"), ("pytorch", "2 threads", "PyTorch 2 thr"),
         ("pytorch", "ddp-gloo x2", "DDP gloo ×2"), ("pytorch", "ddp-gloo x8", "DDP gloo ×8"),
         ("jax", "jit, 1 thread", "JAX 1 thr"), ("jax", "jit, all cores", "JAX all cores")]


def fmt(x):
    return "—" if x is None else f"{x:,.0f}".replace(",", " ")


def load(out):
    report = json.load(open(f"{out}/lockstep.json"))
    peers = [json.loads(l) for l in open(f"{out}/peers.jsonl") if l.strip()]
    shared = []
    if os.path.exists(f"{out}/jax_shared.jsonl"):   # the shared reference's JAX script: one batch reused
        shared = [json.loads(l) for l in open(f"{out}/jax_shared.jsonl") if l.startswith("{")]
    return report, peers, shared


def session(out):
    report, peers, shared = load(out)
    ours = lambda w, n: next((r for r in report["results"] if r["workload"] == w and r["workers"] == n), None)
    peer = lambda w, impl, mode: next((p["samples_per_s"] for p in peers
                                       if p["workload"] == w and p["impl"].startswith(impl) and p["mode"] == mode), None)
    counts = sorted({r["workers"] for r in report["results"]})
    m = report["machine"]
    scaling = m["sgemmTwoThreads"] / m["sgemmOneThread"]
    lines = [f"sgemm one thread {m['sgemmOneThread']:.1f} GFLOP/s, two threads {m['sgemmTwoThreads']:.1f} GFLOP/s "
             f"(×{scaling:.2f}) · memcpy {m['memcpyGBps']:.1f} GB/s\n",
             "| workload | " + " | ".join(f"Lockstep ×{n}" for n in counts) + " | " + " | ".join(p[2] for p in PEERS)
             + " | JAX, one batch reused |",
             "|---|" + "---:|" * (len(counts) + len(PEERS) + 1)]
    figures = {}
    for w in WORKLOADS:
        row = [fmt(ours(w, n)["samplesPerSecond"]) if ours(w, n) else "—" for n in counts]
        row += [fmt(peer(w, impl, mode)) for impl, mode, _ in PEERS]
        reused = [s["samples_per_s"] for s in shared if s["workload"] == w]
        row.append(fmt(max(reused)) if reused else "—")
        lines.append(f"| {w} | " + " | ".join(row) + " |")
        best = max((r for r in report["results"] if r["workload"] == w), key=lambda r: r["samplesPerSecond"])
        candidates = [p["samples_per_s"] for p in peers if p["workload"] == w] + reused
        two = ours(w, 2)
        f = {"best": best["samplesPerSecond"], "best_workers": best["workers"], "peer": max(candidates)}
        if ours(w, 1) and two:
            f["scaling"] = two["samplesPerSecond"] / ours(w, 1)["samplesPerSecond"] / scaling
        if two and ours(w, 8):
            f["oversubscription"] = ours(w, 8)["samplesPerSecond"] / two["samplesPerSecond"]
        if two:
            p = two["phases"]
            total = sum(p[k] for k in ["computeSeconds", "waitSeconds", "reduceScatterSeconds", "optimizerSeconds", "allGatherSeconds"])
            f["comm"] = (p["reduceScatterSeconds"] + p["optimizerSeconds"] + p["allGatherSeconds"]) / total
            f["wait"] = p["waitSeconds"] / total
        figures[w] = f
    return "\n".join(lines), figures


def main():
    sessions = [session(out) for out in sys.argv[1:]]
    for i, (table, _) in enumerate(sessions, 1):
        print(f"Session {i}: " + table + "\n")
    print("Targets of DESIGN.md §5 over the sessions (min / median / max):\n")
    print("| target | " + " | ".join(WORKLOADS) + " |")
    print("|---|" + "---|" * len(WORKLOADS))

    def cell(w, key, fmt_):
        values = [f[w][key] for _, f in sessions if key in f[w]]
        if not values:
            return "—"
        return " / ".join(fmt_(v) for v in (min(values), statistics.median(values), max(values)))

    ratio = lambda w: [f[w]["best"] / f[w]["peer"] for _, f in sessions]
    print("| Lockstep best ÷ best peer | " + " | ".join(
        " / ".join(f"×{v:.2f}" for v in (min(ratio(w)), statistics.median(ratio(w)), max(ratio(w)))) for w in WORKLOADS) + " |")
    print("| 2 workers ÷ 1, over sgemm's two-thread scaling | " + " | ".join(cell(w, "scaling", lambda v: f"{v:.2f}") for w in WORKLOADS) + " |")
    print("| 8 workers ÷ 2 workers | " + " | ".join(cell(w, "oversubscription", lambda v: f"{v:.2f}") for w in WORKLOADS) + " |")
    print("| all-reduce + optimizer at 2 workers | " + " | ".join(cell(w, "comm", lambda v: f"{100 * v:.1f}%") for w in WORKLOADS) + " |")
    print("| waiting for the other worker at 2 workers | " + " | ".join(cell(w, "wait", lambda v: f"{100 * v:.1f}%") for w in WORKLOADS) + " |")


if __name__ == "__main__":
    main()
