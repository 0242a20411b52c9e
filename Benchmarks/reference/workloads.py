"""The benchmark workloads of DESIGN.md §5 in PyTorch and JAX, for side-by-side runs with
`lockstep bench` (Lockstep's own reference implementation; the figures in DESIGN.md came from the
scripts in the project's shared reference folder, which this follows in shapes and optimizer).

    python workloads.py torch mlp-mnist --threads 2
    python workloads.py torch mlp-mnist --ddp 2          # DistributedDataParallel over gloo
    python workloads.py jax mlp-mnist                    # XLA's thread pool (all cores)
    XLA_FLAGS=--xla_cpu_multi_thread_eigen=false python workloads.py jax mlp-mnist   # one thread

Every step takes the next of 16 pre-generated batches (batches gathered from a data set, not one
batch reused), trains with SGD(lr 0.01, momentum 0.9), and the figure is training samples per
second over the measured steps. Prints one JSON line.
"""
import argparse
import json
from functools import partial
import os
import sys
import time

WORKLOADS = {
    "linreg": ([1, 1], 64, "mse"),
    "mlp-small": ([64, 128, 10], 64, "ce"),
    "mlp-mnist": ([784, 256, 256, 10], 128, "ce"),
    "mlp-large": ([1024, 4096, 4096, 1024], 256, "mse"),
    # Input 1 × 28 × 28, Conv2d(1→32, 3, padding 1), ReLU, MaxPool2d(2), Conv2d(32→64, 3, padding 1),
    # ReLU, MaxPool2d(2), Flatten, Linear(3136→128), ReLU, Linear(128→10) (issue 10).
    "cnn": ([784, 10], 128, "ce"),
}
BATCHES = 16


def torch_worker(rank, world, args):
    import torch
    import torch.nn as nn

    torch.set_num_threads(args.threads)
    widths, batch, kind = WORKLOADS[args.workload]
    if world > 1:
        import torch.distributed as dist
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29611")
        dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    if args.workload == "cnn":
        model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    loss_fn = nn.CrossEntropyLoss() if kind == "ce" else nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    local = batch // world
    g = torch.Generator().manual_seed(rank)
    xs = torch.randn(BATCHES, local, widths[0], generator=g)
    ys = (torch.randint(0, widths[-1], (BATCHES, local), generator=g) if kind == "ce"
          else torch.randn(BATCHES, local, widths[-1], generator=g))

    def step(i):
        optimizer.zero_grad()
        loss_fn(model(xs[i % BATCHES]), ys[i % BATCHES]).backward()
        optimizer.step()

    for i in range(args.warmup):
        step(i)
    if world > 1:
        torch.distributed.barrier()
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    if world > 1:
        torch.distributed.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        mode = f"ddp-gloo x{world}" if world > 1 else f"{args.threads} thread{'s' if args.threads > 1 else ''}"
        print(json.dumps({"workload": args.workload, "impl": f"pytorch-{torch.__version__.split('+')[0]}", "mode": mode,
                          "samples_per_s": round(batch * args.steps / seconds, 1)}), flush=True)
    if world > 1:
        torch.distributed.destroy_process_group()


def run_jax(args):
    import jax
    import jax.numpy as jnp

    widths, batch, kind = WORKLOADS[args.workload]
    key = jax.random.PRNGKey(0)
    params = []
    for i in range(len(widths) - 1):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1 / widths[i] ** 0.5
        params.append((jax.random.uniform(kw, (widths[i], widths[i + 1]), minval=-bound, maxval=bound),
                       jax.random.uniform(kb, (widths[i + 1],), minval=-bound, maxval=bound)))

    if args.workload == "cnn":
        def uniform(key, shape, fan_in):
            bound = 1 / fan_in ** 0.5
            return jax.random.uniform(key, shape, minval=-bound, maxval=bound)
        keys = jax.random.split(key, 9)
        key = keys[8]
        params = [(uniform(keys[0], (32, 1, 3, 3), 9), uniform(keys[1], (32,), 9)),
                  (uniform(keys[2], (64, 32, 3, 3), 288), uniform(keys[3], (64,), 288)),
                  (uniform(keys[4], (3136, 128), 3136), uniform(keys[5], (128,), 3136)),
                  (uniform(keys[6], (128, 10), 128), uniform(keys[7], (10,), 128))]

    def conv(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return jax.nn.relu(y + b[None, :, None, None])

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss(ps, x, y):
        if args.workload == "cnn":
            x = pool(conv(x.reshape(-1, 1, 28, 28), *ps[0]))
            x = pool(conv(x, *ps[1])).reshape(x.shape[0], -1)
            x = jax.nn.relu(x @ ps[2][0] + ps[2][1]) @ ps[3][0] + ps[3][1]
        else:
            for i, (w, b) in enumerate(ps):
                x = x @ w + b
                if i < len(ps) - 1:
                    x = jax.nn.relu(x)
        if kind == "ce":
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(x), y[:, None], axis=1))
        return jnp.mean((x - y) ** 2)

    # The batch is indexed inside the jit: slicing it outside costs a dispatch and a copy per
    # step, which dominated the small workloads (linreg ran 14 × slower that way).
    @partial(jax.jit, donate_argnums=(0, 1))
    def step(ps, momentum, xs, ys, i):
        grads = jax.grad(loss)(ps, xs[i % BATCHES], ys[i % BATCHES])
        momentum = jax.tree_util.tree_map(lambda m, g: 0.9 * m + g, momentum, grads)
        return jax.tree_util.tree_map(lambda p, m: p - 0.01 * m, ps, momentum), momentum

    kx, ky = jax.random.split(key)
    xs = jax.random.normal(kx, (BATCHES, batch, widths[0]))
    ys = (jax.random.randint(ky, (BATCHES, batch), 0, widths[-1]) if kind == "ce"
          else jax.random.normal(ky, (BATCHES, batch, widths[-1])))
    momentum = jax.tree_util.tree_map(jnp.zeros_like, params)
    for i in range(args.warmup):
        params, momentum = step(params, momentum, xs, ys, i)
    jax.block_until_ready(params)
    start = time.perf_counter()
    for i in range(args.steps):
        params, momentum = step(params, momentum, xs, ys, i)
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    one = "multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", "")
    print(json.dumps({"workload": args.workload, "impl": f"jax-{jax.__version__}", "mode": "jit, 1 thread" if one else "jit, all cores",
                      "samples_per_s": round(batch * args.steps / seconds, 1)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("framework", choices=["torch", "jax"])
    p.add_argument("workload", choices=WORKLOADS)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ddp", type=int, default=1)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    args = p.parse_args()
    if args.framework == "jax":
        run_jax(args)
    elif args.ddp > 1:
        import torch.multiprocessing as mp
        mp.spawn(torch_worker, args=(args.ddp, args), nprocs=args.ddp, join=True)
    else:
        torch_worker(0, 1, args)


if __name__ == "__main__":
    sys.exit(main())
