#!/usr/bin/env bash
# Regenerates the seed corpora in Fuzz/Seeds from valid files: the iris CSV, small .npy arrays
# (numpy), and model files and checkpoints written by `lockstep train` (built in .build-fuzzcli).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product lockstep --scratch-path .build-fuzzcli >/dev/null
lockstep=.build-fuzzcli/debug/lockstep
seeds=Fuzz/Seeds
rm -rf "$seeds"; mkdir -p "$seeds"/{csv,npy,safetensors,model,checkpoint}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

iris=Tests/CLITests/Fixtures/iris.csv
head -n 31 "$iris" > "$seeds/csv/iris-30.csv"
printf 'a,b,y\n1,2.5,3\n-4e3,0.5,1.25\n"7",8,9\n' > "$seeds/csv/regression.csv"
printf 'x,label\n0.5,cat\n1.5,dog\n2.5,"big, dog"\n' > "$seeds/csv/quoted.csv"
# A regression copy of iris (target: petal_width) for a regression model.
cut -d, -f1-4 "$iris" | head -n 61 > "$work/petal.csv"

python3 - "$seeds/npy" <<'PY'
import sys, numpy as np
out = sys.argv[1]
np.save(f"{out}/f4.npy", np.array([[1, 2, 0], [3, 4, 1], [5, 6, 0]], dtype="<f4"))
np.save(f"{out}/f8.npy", np.array([[0.5, -1.0, 2.0], [1e3, 2e-3, 7.0]], dtype="<f8"))
np.save(f"{out}/empty.npy", np.zeros((0, 4), dtype="<f4"))
with open(f"{out}/v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.ones((2, 3), dtype="<f4"), version=(2, 0))
PY

train() { "$lockstep" train --quiet --epochs 2 --checkpoint-every 1 "$@"; }
train --data "$iris" --model mlp:4 --save "$seeds/model/iris.safetensors" --checkpoint-dir "$work/c1"
train --data "$iris" --model mlp:3,3:tanh --dropout 0.1 --optimizer sgd --momentum 0.9 --val-fraction 0.2 \
  --keep-best val_loss --save "$seeds/model/iris-best.safetensors" --checkpoint-dir "$work/c2"
train --data "$work/petal.csv" --model linear --save "$seeds/model/regression.safetensors" --checkpoint-dir "$work/c3"
i=0
for f in $(find "$work" -name 'checkpoint-*.safetensors' | sort); do
  i=$((i + 1)); cp "$f" "$seeds/checkpoint/checkpoint-$i.safetensors"
done
cp "$seeds"/model/*.safetensors "$seeds/safetensors/"
cp "$seeds/checkpoint/checkpoint-1.safetensors" "$seeds/safetensors/"
ls -l "$seeds"/*
