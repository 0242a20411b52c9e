"""The `transformer` workload (Examples/ByteLM's byte-level GPT: 2 pre-norm blocks of 128, 4 heads,
MLP 512 with GELU, learned positions, untied 256-way head; batches of 32 windows of 64 bytes;
AdamW lr 3e-4 with PyTorch's defaults) in PyTorch and JAX, for side-by-side runs with
`lockstep bench --workload transformer`.

    python transformer.py torch --threads 2     # python/byte_lm_twin.py's nn.Module, nn.MultiheadAttention + causal mask
    python transformer.py jax                   # the same network in jax.numpy, the whole step one jit

Both draw 16 batches of random bytes up front; the JAX step indexes its batch inside the jit and
donates its parameters and optimizer state. Prints one JSON line: tokens and samples per second
over the measured steps.
"""
import argparse
import json
import os
import sys
import time
from functools import partial

import numpy as np

BATCHES, BATCH, CONTEXT, WIDTH, HEADS, HIDDEN, BLOCKS = 16, 32, 64, 128, 4, 512, 2


def data():
    return np.random.default_rng(0).integers(0, 256, size=(BATCHES, BATCH, CONTEXT + 1))


def run_torch(args):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    from byte_lm_twin import ByteGPT

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ByteGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    batches = torch.from_numpy(data())

    def step(i):
        x, y = batches[i % BATCHES, :, :-1], batches[i % BATCHES, :, 1:]
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    seconds = time.perf_counter() - start
    report(args, f"pytorch-{torch.__version__.split('+')[0]}", f"{args.threads} thread{'s' if args.threads > 1 else ''}", seconds)


def run_jax(args):
    import jax
    import jax.numpy as jnp

    def uniform(key, shape, bound):
        return jax.random.uniform(key, shape, minval=-bound, maxval=bound)

    keys = iter(jax.random.split(jax.random.PRNGKey(0), 64))
    d = WIDTH

    def linear(fan_in, fan_out):   # PyTorch's default: U(±1/√fan_in) for weight and bias
        b = 1 / fan_in ** 0.5
        return {"w": uniform(next(keys), (fan_in, fan_out), b), "b": uniform(next(keys), (fan_out,), b)}

    def block():
        return {"ln1": {"g": jnp.ones(d), "b": jnp.zeros(d)}, "ln2": {"g": jnp.ones(d), "b": jnp.zeros(d)},
                "qkv": {"w": uniform(next(keys), (d, 3 * d), (6 / (4 * d)) ** 0.5), "b": jnp.zeros(3 * d)},
                "out": {"w": uniform(next(keys), (d, d), 1 / d ** 0.5), "b": jnp.zeros(d)},
                "fc1": linear(d, HIDDEN), "fc2": linear(HIDDEN, d)}

    params = {"tok": jax.random.normal(next(keys), (256, d)), "pos": jnp.zeros((CONTEXT, d)),
              "blocks": [block() for _ in range(BLOCKS)], "ln_f": {"g": jnp.ones(d), "b": jnp.zeros(d)},
              "head": linear(d, 256)}

    def layer_norm(x, p):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + 1e-5) * p["g"] + p["b"]

    mask = jnp.tril(jnp.ones((CONTEXT, CONTEXT), dtype=bool))

    def attention(x, p):
        n, t, _ = x.shape
        q, k, v = jnp.split(x @ p["qkv"]["w"] + p["qkv"]["b"], 3, axis=-1)
        heads = lambda a: a.reshape(n, t, HEADS, d // HEADS).transpose(0, 2, 1, 3)
        q, k, v = heads(q), heads(k), heads(v)
        scores = jnp.where(mask, q @ k.transpose(0, 1, 3, 2) / (d // HEADS) ** 0.5, -jnp.inf)
        y = (jax.nn.softmax(scores, axis=-1) @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        return y @ p["out"]["w"] + p["out"]["b"]

    def loss(ps, x, y):
        h = ps["tok"][x] + ps["pos"]
        for b in ps["blocks"]:
            h = h + attention(layer_norm(h, b["ln1"]), b)
            m = jax.nn.gelu(layer_norm(h, b["ln2"]) @ b["fc1"]["w"] + b["fc1"]["b"], approximate=False)
            h = h + m @ b["fc2"]["w"] + b["fc2"]["b"]
        logits = layer_norm(h, ps["ln_f"]) @ ps["head"]["w"] + ps["head"]["b"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[..., None], axis=-1))

    tree = jax.tree_util.tree_map
    lr, b1, b2, eps, wd = 3e-4, 0.9, 0.999, 1e-8, 1e-2

    @partial(jax.jit, donate_argnums=(0, 1, 2))
    def step(ps, m, v, t, batches, i):
        batch = batches[i % BATCHES]
        grads = jax.grad(loss)(ps, batch[:, :-1], batch[:, 1:])
        m = tree(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tree(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        ps = tree(lambda p, m, v: p * (1 - lr * wd) - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), ps, m, v)
        return ps, m, v

    batches = jnp.asarray(data())
    m, v = tree(jnp.zeros_like, params), tree(jnp.zeros_like, params)
    for i in range(args.warmup):
        params, m, v = step(params, m, v, i + 1.0, batches, i)
    jax.block_until_ready(params)
    start = time.perf_counter()
    for i in range(args.steps):
        params, m, v = step(params, m, v, args.warmup + i + 1.0, batches, i)
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    one = "multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", "")
    report(args, f"jax-{jax.__version__}", "jit, 1 thread" if one else "jit, all cores", seconds)


def report(args, impl, mode, seconds):
    samples = BATCH * args.steps / seconds
    print(json.dumps({"workload": "transformer", "impl": impl, "mode": mode, "samples_per_s": round(samples, 1),
                      "tokens_per_s": round(samples * CONTEXT, 1)}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("framework", choices=["torch", "jax"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    args = p.parse_args()
    run_torch(args) if args.framework == "torch" else run_jax(args)
