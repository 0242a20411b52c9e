#!/usr/bin/env python3
"""A model, not a measurement: the α–β cost of one training step of Lockstep over P machines of
16 cores (one process of 16 workers each), calibrated on what this 2-core machine measured, for
25 and 100 Gb/s Ethernet. Prints the table Benchmarks/RESULTS.md ("Across processes") quotes.

Step = compute + in-process reduction (threads) + cross-process reduction (the leader thread's
point-to-point messages), with no overlap between them (Lockstep overlaps none today).
"""
import math

MB = 1 << 20
n = (1024 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1024 + 1024) * 4   # mlp-large's gradient, bytes
W = 16                        # workers per machine
rows_per_worker = 64
seconds_per_row = 1 / 653     # mlp-large on one worker here: 653 samples/s (RESULTS.md, "Sessions")
# In-process: 2 threads sum and share a 64 MB buffer in 10.76 ms (Benchmarks/collectives-rounds.sh):
# linear in the bytes every worker's gradient adds, at this machine's memory speed.
c_mem = 10.76e-3 / (2 * 64 * MB)
chunk = MB                    # the cross-process stage's message size (ProcessNode.chunk)

def split(lo, hi):
    p = 1
    while p * 2 < hi - lo:
        p *= 2
    return lo + p

def levels(P):
    """Each exchange of the reduce-scatter's tree, as ClusterCommunicator runs it: per tree node,
    every block's partial sum goes from its child's holder to the node's holder (the block's
    process if the node spans it, else the node's first process); one exchange per node carries
    all blocks at once. Returns, per node, the largest bytes (in units of a block, n/P) one
    process sends or receives in it: the time of that exchange on full-duplex links."""
    def holder(lo, hi, b):
        return b if lo <= b < hi else lo
    out = []
    def node(lo, hi):
        if hi - lo < 2:
            return
        mid = split(lo, hi)
        node(lo, mid); node(mid, hi)
        sent, got = {}, {}
        for b in range(P):
            h = holder(lo, hi, b)
            for child in ((lo, mid), (mid, hi)):
                c = holder(*child, b)
                if c != h:
                    sent[c] = sent.get(c, 0) + 1
                    got[h] = got.get(h, 0) + 1
        out.append(max(list(sent.values()) + list(got.values())))
    node(0, P)
    return out

def depths(P):
    """The depth of each node of the tree, in the order levels() lists them."""
    out = []
    def node(lo, hi, d):
        if hi - lo < 2:
            return
        mid = split(lo, hi)
        node(lo, mid, d + 1); node(mid, hi, d + 1)
        out.append(d)
    node(0, P, 0)
    return out

def tree(P, alpha, beta):
    """For P not a power of two. Reduce-scatter: the nodes of one depth exchange side by side, the
    depths one after another, each as long as its busiest link (levels()), in messages of at most
    one chunk. All-gather: every process sends its block to all others at once, (P−1)/P·n each way."""
    if P == 1:
        return 0.0
    block = n / P
    busiest = {}
    for d, units in zip(depths(P), levels(P)):
        busiest[d] = max(busiest.get(d, 0), units)
    rs = sum(units * block * beta + alpha * math.ceil(units * block / chunk) for units in busiest.values())
    return rs + (P - 1) / P * n * beta + alpha * (P - 1)

def halving(P, alpha, beta):
    """For P a power of two, what ClusterCommunicator does: the tree's sums by recursive halving
    bottom-up, (P−1)/P·n per process over log2(P) exchanges of halving size (each in messages of
    at most one chunk), then the all-gather, (P−1)/P·n each way."""
    if P == 1:
        return 0.0
    sizes = [n / 2 ** (k + 1) for k in range(int(math.log2(P)))]
    return 2 * (P - 1) / P * n * beta + alpha * (sum(math.ceil(b / chunk) for b in sizes) + P - 1)

# Calibration check on this machine: 2 processes × 1 worker, TCP over loopback, 64 MB: 42.65 ms
# measured = 1.5 × 64 MB × β (+ 3 message latencies of ≈ 8.7 µs): β ≈ 0.444 ns/B (2.25 GB/s).
compute = rows_per_worker * seconds_per_row
intra = c_mem * W * n
print(f"gradient {n / 1e6:.0f} MB · {W} workers × {rows_per_worker} rows per machine · compute {compute * 1e3:.0f} ms · "
      f"in-process {intra * 1e3:.0f} ms")
print("| network | machines | cross-process stage | step | samples/s | × one machine | the tree's stage instead |")
print("|---|---:|---:|---:|---:|---:|---:|")
one = compute + intra
print(f"| — | 1 | 0 ms | {one * 1e3:.0f} ms | {W * rows_per_worker / one:,.0f} | 1.0 | — |")
for name, alpha, gbits in [("25 Gb/s", 30e-6, 25), ("100 Gb/s", 20e-6, 100)]:
    beta = 8 / (gbits * 1e9)
    for P in (4, 16, 64):
        t = halving(P, alpha, beta)
        step = compute + intra + t
        rate = P * W * rows_per_worker / step
        print(f"| {name} | {P} | {t * 1e3:.0f} ms | {step * 1e3:.0f} ms | {rate:,.0f} | {rate / (W * rows_per_worker / one):.1f} | "
              f"{tree(P, alpha, beta) * 1e3:.0f} ms |")
