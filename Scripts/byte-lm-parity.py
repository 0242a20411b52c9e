#!/usr/bin/env python3
"""ByteLM's loss curve against its PyTorch twin's (issue 11): the same architecture,
initialization scheme and hyperparameters, each side with its own random draws. Trains both for
STEPS steps on the text fixture with seeds 0, 1, 2 — Lockstep on 1 and on 4 workers, PyTorch on
2 threads — and compares, per Lockstep worker count, the means over the seeds of the final train
loss (the mean of the last 10 steps) and of the validation loss. Exit status 1 when one differs
from PyTorch's by more than 5 %.

    python3 Scripts/byte-lm-parity.py [--steps 300] [--byte-lm .build/release/ByteLM] [--python PYTHON]
"""
import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=300)
p.add_argument("--byte-lm", default=str(root / ".build/release/ByteLM"))
p.add_argument("--python", default=sys.executable)
p.add_argument("--text", default=str(root / "Tests/LockstepTests/Fixtures/genesis-exodus.txt"))
args = p.parse_args()
seeds = [0, 1, 2]


def final(output):
    train = [float(m) for m in re.findall(r"^step \d+ loss ([0-9.]+)$", output, re.M)]
    validation = re.search(r"^val loss ([0-9.]+)$", output, re.M)
    if not train or not validation:
        sys.exit(f"no loss in this output:\n{output}")
    return train[-1], float(validation.group(1))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, cwd="/tmp")
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return final(result.stdout)


runs = {"pytorch": [run([args.python, str(root / "python/byte_lm_twin.py"), "train", args.text, "--steps", str(args.steps),
                         "--seed", str(s), "--threads", "2"]) for s in seeds]}
for workers in [1, 4]:
    runs[f"lockstep ×{workers}"] = [run([args.byte_lm, args.text, "--steps", str(args.steps), "--workers", str(workers),
                                         "--seed", str(s), "--sample", "0", "--save", "/dev/null"]) for s in seeds]
reference = [statistics.mean(r[i] for r in runs["pytorch"]) for i in (0, 1)]
ok = True
print(f"{args.steps} steps, seeds {seeds}: train loss (mean of the last 10 steps) · validation loss, per seed and mean")
for name, results in runs.items():
    means = [statistics.mean(r[i] for r in results) for i in (0, 1)]
    line = f"{name:12} " + "  ".join(f"{t:.4f}·{v:.4f}" for t, v in results) + f"  mean {means[0]:.4f}·{means[1]:.4f}"
    if name != "pytorch":
        gaps = [(m - r) / r for m, r in zip(means, reference)]
        line += f"  vs PyTorch {100 * gaps[0]:+.1f}% · {100 * gaps[1]:+.1f}%"
        ok = ok and max(map(abs, gaps)) <= 0.05
    print(line)
print("within 5 % of PyTorch" if ok else "MORE than 5 % from PyTorch")
sys.exit(0 if ok else 1)
