#!/usr/bin/env bash
# Same command, same bytes (DESIGN.md §7): runs a fixed set of `lockstep train` commands with two
# binaries and compares the tensors of every model file and checkpoint they write. Use it before
# landing a change that is not meant to change the arithmetic:
#
#   cp .build/release/lockstep /tmp/lockstep-before     # at the commit before the change
#   swift build -c release --product lockstep            # with the change
#   Scripts/same-bytes.sh /tmp/lockstep-before .build/release/lockstep
#
# Exit status 0 when every tensor byte agrees; 1 naming each file that differs or a model file
# that is missing (a checkpoint the new build no longer keeps is only listed).
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
digits="$here/Tests/LockstepTests/Fixtures/digits.csv"
[ -f "$digits" ] || digits=$(ls "$here"/Tests/*/Fixtures/*digits*.csv | head -1)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# name | arguments (each run in a fresh folder; --quiet, no metrics)
runs=(
  "w1|--data builtin:spirals --workers 1 --epochs 6"
  "w2|--data builtin:spirals --workers 2 --epochs 6"
  "w4|--data builtin:spirals --workers 4 --epochs 6"
  "w8|--data builtin:spirals --workers 8 --epochs 6"
  "dropout|--data builtin:spirals --workers 4 --epochs 6 --dropout 0.2 --model mlp:32,32"
  "clip|--data builtin:blobs --workers 3 --epochs 5 --clip-norm 0.5 --optimizer sgd --momentum 0.9"
  "cosine|--data $digits --workers 4 --epochs 4 --schedule cosine --warmup 10 --optimizer adamw"
  "step|--data $digits --workers 2 --epochs 4 --schedule step --step-every 2 --val-fraction 0.2 --keep-best val_loss"
  "linear|--workers 8 --epochs 20"
  "gelu|--data builtin:spirals --workers 2 --epochs 6 --model mlp:32,32:gelu"
)

# The tensor bytes of a safetensors file (the JSON header holds timings and paths: skipped).
tensors() { python3 - "$1" <<'PY'
import hashlib, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
print(hashlib.sha256(data[8 + n:]).hexdigest())
PY
}

run_all() {  # binary, folder
  local bin=$1 dir=$2
  for entry in "${runs[@]}"; do
    local name=${entry%%|*} args=${entry#*|}
    mkdir -p "$dir/$name"
    (cd "$dir/$name" && "$bin" train $args --quiet --save model.safetensors --checkpoint-every 2 >/dev/null)
    # Resume: a second run that continues the first's newest checkpoint for two more epochs.
    if [ "$name" = w4 ]; then
      (cd "$dir/$name" && "$bin" train $args --epochs 8 --resume --quiet --save resumed.safetensors >/dev/null)
    fi
  done
}

run_all "$old" "$work/old"
run_all "$new" "$work/new"
status=0; compared=0
while IFS= read -r f; do
  rel=${f#"$work/old/"}
  if [ ! -f "$work/new/$rel" ]; then
    # A checkpoint the new build no longer keeps is a retention change, not arithmetic: said, not failed.
    case "$rel" in */checkpoints/*) echo "not kept by the new run (retention): $rel"; continue ;; esac
    echo "missing in the new run: $rel"; status=1; continue
  fi
  a=$(tensors "$f"); b=$(tensors "$work/new/$rel")
  if [ "$a" != "$b" ]; then echo "tensors differ: $rel"; status=1; fi
  compared=$((compared + 1))
done < <(cd / && find "$work/old" -name '*.safetensors' -o -name '*.ckpt' | sort)
echo "compared $compared files from ${#runs[@]} runs: $([ $status = 0 ] && echo 'all tensors identical' || echo 'DIFFERENCES')"
exit $status
