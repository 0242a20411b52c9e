#!/usr/bin/env python3
"""Prints the forward values and gradients of PyTorch's layers for fixed weights and inputs, as
JSON: the reference the layer tests compare Lockstep with (Tests/LockstepTests/Fixtures/
torch-layers.json). Regenerate with PyTorch installed:

    python3 Scripts/torch-layer-reference.py > Tests/LockstepTests/Fixtures/torch-layers.json

Every tensor is drawn from a seeded torch generator; the loss is sum(y * r) for a fixed r, so
the gradients are those of a generic downstream loss. Layers in training mode (batch norm uses
the batch's statistics and updates its running statistics, which are recorded too).
"""
import json
import torch

torch.manual_seed(0)


def draw(*shape):
    return torch.randn(tuple(shape), dtype=torch.float32)


def case(name, layer, x, spec, ids=False):
    """`spec`: a Lockstep layer spec (dict), or the name of a module the Swift test builds."""
    x = x.clone().requires_grad_(not ids)
    state_before = {k: v.clone() for k, v in layer.state_dict().items()}
    y = layer(x.long() if ids else x)
    r = draw(*y.shape)
    (y * r).sum().backward()
    return {
        "name": name,
        **({"layer": spec} if isinstance(spec, dict) else {"module": spec}),
        "input": x.detach().flatten().tolist(), "input_shape": list(x.shape),
        "state": {k: {"shape": list(v.shape), "values": v.flatten().tolist()} for k, v in state_before.items()},
        "r": r.flatten().tolist(),
        "output": y.detach().flatten().tolist(), "output_shape": list(y.shape),
        "grad_input": (torch.zeros_like(x) if ids else x.grad).flatten().tolist(),
        "grads": {k: p.grad.flatten().tolist() for k, p in layer.named_parameters()},
        "state_after": {k: v.flatten().tolist() for k, v in layer.state_dict().items() if "running" in k},
    }


def randomized(layer):
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(draw(*p.shape))
    return layer


cases = [
    case("conv2d", randomized(torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2)), draw(2, 4, 7, 6),
         {"type": "conv2d", "in": 4, "out": 6, "kernel": 3, "stride": 2, "padding": 1, "groups": 2}),
    case("conv2d_dilated", randomized(torch.nn.Conv2d(3, 5, 2, padding=2, dilation=2, bias=False)), draw(2, 3, 5, 5),
         {"type": "conv2d", "in": 3, "out": 5, "kernel": 2, "padding": 2, "dilation": 2, "bias": False}),
    case("conv1d", randomized(torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)), draw(3, 4, 9),
         {"type": "conv1d", "in": 4, "out": 6, "kernel": 3, "stride": 2, "padding": 1, "groups": 2}),
    case("conv1d_dilated", randomized(torch.nn.Conv1d(2, 3, 3, dilation=2)), draw(2, 2, 8),
         {"type": "conv1d", "in": 2, "out": 3, "kernel": 3, "dilation": 2}),
    case("max_pool2d", torch.nn.MaxPool2d(3, stride=2), draw(2, 3, 7, 7), {"type": "max_pool2d", "kernel": 3, "stride": 2}),
    case("avg_pool2d", torch.nn.AvgPool2d(2), draw(2, 3, 6, 4), {"type": "avg_pool2d", "kernel": 2}),
    case("adaptive_avg_pool2d", torch.nn.AdaptiveAvgPool2d(1), draw(2, 3, 5, 5), {"type": "adaptive_avg_pool2d"}),
    case("flatten", torch.nn.Flatten(), draw(2, 3, 2, 2), {"type": "flatten"}),
    case("identity", torch.nn.Identity(), draw(2, 5), {"type": "identity"}),
    case("batch_norm1d", randomized(torch.nn.BatchNorm1d(5, momentum=0.3)), draw(6, 5) * 3 + 1,
         {"type": "batch_norm1d", "features": 5, "momentum": 0.3}),
    case("batch_norm1d_sequence", randomized(torch.nn.BatchNorm1d(3)), draw(4, 3, 5), {"type": "batch_norm1d", "features": 3}),
    case("batch_norm2d", randomized(torch.nn.BatchNorm2d(4, eps=1e-3)), draw(3, 4, 3, 2) * 2 - 1,
         {"type": "batch_norm2d", "features": 4, "eps": 1e-3}),
    # Ids repeat, so the weight's gradient adds several rows into one.
    case("embedding", randomized(torch.nn.Embedding(7, 5)), torch.tensor([[1., 3., 3., 0.], [6., 1., 2., 1.]]),
         {"type": "embedding", "num_embeddings": 7, "embedding_dim": 5}, ids=True),
    case("layer_norm_sequence", randomized(torch.nn.LayerNorm(6)), draw(2, 3, 6) * 2 + 0.5,
         {"type": "layer_norm", "features": 6}),
]


# Sequence-model pieces, each a module whose state_dict names match the Swift module the test
# builds for its name (TorchReferenceTests.swift).
class Softmax(torch.nn.Module):
    def __init__(self, dim, log=False):
        super().__init__()
        self.dim, self.log = dim, log

    def forward(self, x):
        return torch.log_softmax(x, self.dim) if self.log else torch.softmax(x, self.dim)


class BatchedMatmul(torch.nn.Module):
    def __init__(self, *shape, transpose=False):
        super().__init__()
        self.other, self.transpose = torch.nn.Parameter(draw(*shape)), transpose

    def forward(self, x):
        return torch.bmm(x, self.other.transpose(1, 2) if self.transpose else self.other)


class SelfAttention(torch.nn.MultiheadAttention):
    """nn.MultiheadAttention called on one sequence, batch first, optionally causal."""
    def __init__(self, dim, heads, causal):
        super().__init__(dim, heads, batch_first=True)
        self.causal = causal

    def forward(self, x):
        t = x.shape[1]
        mask = torch.nn.Transformer.generate_square_subsequent_mask(t) if self.causal else None
        return super().forward(x, x, x, attn_mask=mask, is_causal=self.causal, need_weights=False)[0]


class Block(torch.nn.Module):
    """Pre-norm GPT block: Lockstep's TransformerBlock."""
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1, self.attn = torch.nn.LayerNorm(dim), SelfAttention(dim, heads, True)
        self.ln2, self.fc1, self.fc2 = torch.nn.LayerNorm(dim), torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, dim)

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(h))))


class Positions(torch.nn.Module):
    def __init__(self, length, dim):
        super().__init__()
        self.weight = torch.nn.Parameter(draw(length, dim))

    def forward(self, x):
        return x + self.weight


class SequenceCrossEntropy(torch.nn.Module):
    """Mean cross-entropy over every position; targets (3n + t) mod V."""
    def forward(self, x):
        n, t, v = x.shape
        targets = torch.tensor([[(3 * i + j) % v for j in range(t)] for i in range(n)])
        return torch.nn.functional.cross_entropy(x.reshape(n * t, v), targets.reshape(-1))


cases += [
    case("softmax_axis1", Softmax(1), draw(2, 3, 4) * 2, "softmax_axis1"),
    case("log_softmax_last", Softmax(-1, log=True), draw(2, 3, 5) * 2, "log_softmax_last"),
    case("bmm", BatchedMatmul(2, 4, 3), draw(2, 5, 4), "bmm"),
    case("bmm_transposed", BatchedMatmul(2, 3, 4, transpose=True), draw(2, 5, 4), "bmm_transposed"),
    case("mha", randomized(SelfAttention(8, 2, False)), draw(2, 5, 8), "mha"),
    case("mha_causal", randomized(SelfAttention(8, 2, True)), draw(2, 5, 8), "mha_causal"),
    case("transformer_block", randomized(Block(8, 2, 16)), draw(2, 5, 8), "transformer_block"),
    case("positions", Positions(5, 8), draw(2, 5, 8), "positions"),
    case("cross_entropy_sequence", SequenceCrossEntropy(), draw(2, 4, 6) * 2, "cross_entropy_sequence"),
]
print(json.dumps({"torch": torch.__version__, "cases": cases}))
