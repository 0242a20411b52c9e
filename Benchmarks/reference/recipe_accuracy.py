"""PyTorch on Lockstep's exact train/test splits: the reference for Tests/LockstepTests/QualityTests.

Recipe: standardize with train statistics, MLP with 64 ReLU hidden units, Adam(lr 1e-3),
batch 32, 100 epochs, 80/20 split. With --model cnn (digits as 1 × 8 × 8 images): per-pixel
standardization, Conv2d(1→16, 3, padding 1), ReLU, MaxPool2d(2), Conv2d(16→32, 3, padding 1), ReLU,
MaxPool2d(2), Flatten, Linear(128→10) — README's DigitsCNN without its residual block and batch
norm — Adam(lr 1e-3), batch 32, 30 epochs. The split is Lockstep's `Dataset.split(testFraction:seed:)`,
ported here (xoshiro256** seeded by SplitMix64, Fisher-Yates with next() % (i + 1), the test
part first), so both frameworks see the same rows.

Usage: python recipe_accuracy.py ../../Tests/LockstepTests/Fixtures/iris.csv [--seeds 10]
       python recipe_accuracy.py ../../Tests/LockstepTests/Fixtures/digits.csv --model cnn --seeds 5
"""
import argparse, math
import numpy as np
import torch

M = (1 << 64) - 1


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return x, z ^ (z >> 31)


class Xoshiro256:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = splitmix(seed)
            self.s.append(v)

    def next(self):
        s0, s1, s2, s3 = self.s
        r = ((((s1 * 5) & M) << 7 | ((s1 * 5) & M) >> 57) & M) * 9 & M
        t = (s1 << 17) & M
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & M
        self.s = [s0, s1, s2, s3]
        return r


def lockstep_split(n, seed, test_fraction=0.2):
    order, rng = list(range(n)), Xoshiro256(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    k = math.ceil(n * test_fraction)
    return np.array(order[k:]), np.array(order[:k])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    args = p.parse_args()
    d = np.loadtxt(args.csv, delimiter=",", skiprows=1)
    X, y = d[:, :-1].astype(np.float32), d[:, -1].astype(np.int64)
    classes = int(y.max()) + 1
    accs = []
    for seed in range(args.seeds):
        tr, te = lockstep_split(len(X), seed)
        mu, sd = X[tr].mean(0), X[tr].std(0)
        sd[sd == 0] = 1
        xtr, xte = torch.tensor((X[tr] - mu) / sd), torch.tensor((X[te] - mu) / sd)
        ytr = torch.tensor(y[tr])
        torch.manual_seed(seed)
        nn = torch.nn
        if args.model == "cnn":
            xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
            model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                  nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, classes))
        else:
            model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, classes))
        opt, lossf = torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss()
        for _ in range(30 if args.model == "cnn" else 100):
            perm = torch.randperm(len(xtr))
            for i in range(0, len(xtr), 32):
                b = perm[i:i + 32]
                opt.zero_grad()
                lossf(model(xtr[b]), ytr[b]).backward()
                opt.step()
        with torch.no_grad():
            accs.append(float((model(xte).argmax(1).numpy() == y[te]).mean()))
        print(f"seed {seed}: test accuracy {accs[-1]:.4f}")
    print(f"mean over {args.seeds} splits: {np.mean(accs):.4f}")


if __name__ == "__main__":
    main()
