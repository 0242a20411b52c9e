"""The digits recipe end to end in PyTorch, as `lockstep train` runs it: load the CSV, split 80/20
with Lockstep's split (recipe_accuracy.lockstep_split), standardize with the train statistics,
MLP 64 ReLU, Adam(lr 1e-3), batch 32 shuffled every epoch, 100 epochs, test accuracy, save the
state dict. Timed from process start to exit by Benchmarks/digits-rounds.sh.

Usage: python digits_recipe.py DIGITS.csv OUT.pt [--threads N] [--seed S]
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from recipe_accuracy import lockstep_split  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = np.loadtxt(args.csv, delimiter=",", skiprows=1, dtype=np.float32)
    X, y = d[:, :-1], d[:, -1].astype(np.int64)
    tr, te = lockstep_split(len(X), args.seed)
    mu, sd = X[tr].mean(0), X[tr].std(0)
    sd[sd == 0] = 1
    xtr, xte = torch.from_numpy((X[tr] - mu) / sd), torch.from_numpy((X[te] - mu) / sd)
    ytr = torch.from_numpy(y[tr])
    torch.manual_seed(args.seed)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, int(y.max()) + 1))
    opt, lossf = torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss()
    for _ in range(100):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 32):
            b = perm[i:i + 32]
            opt.zero_grad(set_to_none=True)
            lossf(model(xtr[b]), ytr[b]).backward()
            opt.step()
    with torch.no_grad():
        accuracy = float((model(xte).argmax(1).numpy() == y[te]).mean())
    torch.save(model.state_dict(), args.out)
    print(f"test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
