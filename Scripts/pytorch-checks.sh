#!/usr/bin/env bash
# CI's pytorch stage: the checks that need PyTorch itself, in a virtual environment of their own
# (.build-torch-venv; the PyPI wheel brings CUDA libraries, several GB, so `make test` does not
# install it):
#   - Tests/LockstepTests/Fixtures/torch-layers.json is what PyTorch prints today
#     (Scripts/torch-layer-reference.py regenerates it byte for byte);
#   - model files load into the rebuilt torch.nn.Sequential with load_state_dict(strict=True) and
#     give Lockstep's outputs, and the README's DigitsCNN file loads into its PyTorch twin
#     (InteropTests with LOCKSTEP_REQUIRE_TORCH=1: a missing torch fails instead of being skipped);
#   - Examples/ByteLM's loss curve tracks its PyTorch twin's (Scripts/byte-lm-parity.py: 300 steps,
#     3 seeds, Lockstep on 1 and 4 workers, within 5 %; about 4 minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-torch-venv
torch=torch==2.15.0
if ! "$venv/bin/python" -c "import torch, numpy, safetensors" 2>/dev/null; then
  python3 -m venv "$venv" 2>/dev/null || {
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
    python3 -m venv "$venv"
  }
  echo "installing $torch numpy safetensors into $venv"
  "$venv/bin/pip" install --quiet "$torch" numpy safetensors
fi
python="$PWD/$venv/bin/python"
"$python" Scripts/torch-layer-reference.py | cmp - Tests/LockstepTests/Fixtures/torch-layers.json \
  && echo "ok torch-layers.json is what PyTorch $("$python" -c 'import torch; print(torch.__version__)') prints"
LOCKSTEP_PYTHON="$python" LOCKSTEP_REQUIRE_TORCH=1 swift test -c release -Xswiftc -enable-testing \
  --filter 'PythonInterop|LayersMatchPyTorch'
swift build -c release --product ByteLM
"$python" Scripts/byte-lm-parity.py --python "$python" --steps 300
