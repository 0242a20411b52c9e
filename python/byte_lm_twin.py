"""The PyTorch twin of Examples/ByteLM: the same byte-level GPT (names, shapes, PyTorch's default
initialization of each module), trained the same way — AdamW lr 3e-4 with PyTorch's defaults,
batches of 32 windows of 64 bytes at seeded random offsets into the first 90 % of the file — and
evaluated the same way: mean cross-entropy over every non-overlapping 64-byte window of the last
10 %.

    python byte_lm_twin.py train FILE --steps 300 --seed 0 [--threads 2]
        prints `step S loss L` every 10 steps (L: the mean of those 10 steps), then `val loss V`.
    python byte_lm_twin.py evaluate MODEL.safetensors FILE
        loads a model file ByteLM saved, strictly, and prints its `val loss V`.
"""
import argparse

import numpy as np
import torch
from torch import nn

CONTEXT, WIDTH, HEADS, HIDDEN, BLOCKS = 64, 128, 4, 512, 2


class SelfAttention(nn.MultiheadAttention):
    """Causal self-attention, batch first: nn.MultiheadAttention's own parameters and init."""
    def __init__(self, dim, heads):
        super().__init__(dim, heads, batch_first=True)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return super().forward(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]


class Block(nn.Module):
    """Pre-norm: x + attn(ln1(x)), then h + fc2(gelu(fc1(ln2(h))))."""
    def __init__(self):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(WIDTH), SelfAttention(WIDTH, HEADS)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, HIDDEN), nn.Linear(HIDDEN, WIDTH)

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(h))))


class Positions(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(CONTEXT, WIDTH))

    def forward(self, x):
        return x + self.weight[: x.shape[1]]


class ByteGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(256, WIDTH), Positions()
        self.blocks = nn.ModuleList([Block() for _ in range(BLOCKS)])
        self.ln_f, self.head = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, 256)

    def forward(self, ids):
        x = self.pos(self.tok(ids))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def windows(data, offsets):
    index = offsets[:, None] + np.arange(CONTEXT + 1)[None, :]
    chunk = torch.from_numpy(data[index].astype(np.int64))
    return chunk[:, :-1], chunk[:, 1:]


def validation_loss(model, data):
    offsets = np.arange(0, len(data) - CONTEXT - 1 + 1, CONTEXT)
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(offsets), 64):
            x, y = windows(data, offsets[start:start + 64])
            logits = model(x)
            total += nn.functional.cross_entropy(logits.reshape(-1, 256), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return total / count


def split(path):
    data = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
    cut = len(data) * 9 // 10
    return data[:cut], data[cut:]


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_data, validation_data = split(args.file)
    model = ByteGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    offsets = np.random.default_rng(args.seed).integers(0, len(train_data) - CONTEXT, size=(args.steps, 32))
    recent = []
    for step in range(args.steps):
        x, y = windows(train_data, offsets[step])
        loss = nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        recent.append(loss.item())
        if len(recent) == 10:
            print(f"step {step + 1} loss {sum(recent) / 10:.4f}", flush=True)
            recent = []
    model.eval()
    print(f"val loss {validation_loss(model, validation_data):.4f}")


def evaluate(args):
    from safetensors.torch import load_file
    model = ByteGPT()
    model.load_state_dict(load_file(args.model), strict=True)
    model.eval()
    print(f"val loss {validation_loss(model, split(args.file)[1]):.6f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train")
    t.add_argument("file")
    t.add_argument("--steps", type=int, default=300)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2)
    e = commands.add_parser("evaluate")
    e.add_argument("model")
    e.add_argument("file")
    args = parser.parse_args()
    train(args) if args.command == "train" else evaluate(args)
