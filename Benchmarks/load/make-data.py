#!/usr/bin/env python3
"""Writes issue 13's load benchmark files: ROWS rows of 10 standard-normal float32 features and a
linear target (11 columns), as CSV (header x0…x9,y; 7 significant digits, ~200 MB at 2 M rows)
and as .npy (float32, [ROWS, 11]).

    python3 Benchmarks/load/make-data.py OUT_DIR [ROWS]
"""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
x = rng.standard_normal((rows, 10)).astype(np.float32)
table = np.column_stack([x, (x @ rng.standard_normal(10)).astype(np.float32)])
np.save(out / "load.npy", table)
with open(out / "load.csv", "w") as f:
    f.write(",".join([f"x{i}" for i in range(10)] + ["y"]) + "\n")
    np.savetxt(f, table, delimiter=",", fmt="%.7g")
print(f"{out / 'load.csv'} and {out / 'load.npy'}: {rows} rows × 11")
