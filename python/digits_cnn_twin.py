"""The PyTorch twin of Examples/DigitsCNN's network: the same classes, so the file the example
saves (`trainer.model.save(to:)`) loads with load_state_dict(strict=True) and predicts the same.

Usage: python digits_cnn_twin.py MODEL.safetensors [FEATURES.csv OUTPUTS.csv]
With the CSVs (rows of 64 standardized pixels and Lockstep's outputs for them), checks that the
twin's outputs (eval mode: running statistics) match to 1e-5 norm-wise and give the same classes.
"""
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.block = ResidualBlock(32)
        self.pool, self.fc = nn.MaxPool2d(2), nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        h = self.pool(torch.relu(self.bn1(self.conv1(x))))
        features = self.pool(torch.relu(self.bn2(self.conv2(h))))
        return self.fc(self.block(features).flatten(1))


def load(path):
    """The twin with the file's weights and running statistics, in eval mode."""
    model = DigitsCNN()
    model.load_state_dict(load_file(path), strict=True)
    return model.eval()


def main(path, features=None, outputs=None):
    model = load(path)
    print(f"ok load_state_dict(strict=True): {len(model.state_dict())} tensors")
    if features is None:
        return 0
    rows = np.loadtxt(features, delimiter=",", ndmin=2).astype(np.float32)
    lockstep = np.loadtxt(outputs, delimiter=",", ndmin=2)
    with torch.no_grad():
        twin = model(torch.tensor(rows).reshape(-1, 1, 8, 8)).double().numpy()
    difference = np.linalg.norm(twin - lockstep) / np.linalg.norm(lockstep)
    same = (twin.argmax(axis=1) == lockstep.argmax(axis=1)).mean()
    if not (difference <= 1e-5 and same == 1):
        print(f"FAIL the twin's outputs differ: relative difference {difference:.2e}, same classes {same:.3f}")
        return 1
    print(f"ok twin outputs: relative difference {difference:.2e}, same classes for all {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
