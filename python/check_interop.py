"""Checks a Lockstep model file from Python (run by the Swift test suite's InteropTests).

Usage: python check_interop.py MODEL.safetensors FEATURES.csv OUTPUTS.csv
FEATURES.csv holds raw (unstandardized) rows; OUTPUTS.csv Lockstep's raw outputs for them.
Checks that the tensor names and shapes are those of the torch.nn.Sequential the document
describes, and that a numpy forward pass (and, where torch is installed, the rebuilt torch
model) reproduces Lockstep's outputs to 1e-5. Prints one line per check; exits 1 on a failure.
"""
import os
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import lockstep_loader as loader  # noqa: E402


def main(model_path, features_path, outputs_path):
    doc = loader.read_document(model_path)
    weights = load_file(model_path)
    expected = {}
    for index, layer in enumerate(doc["model"]["layers"]):
        if layer["type"] == "linear":
            expected[f"{index}.weight"] = (layer["out"], layer["in"])
            if layer.get("bias", True):
                expected[f"{index}.bias"] = (layer["out"],)
        elif layer["type"] == "layer_norm":
            expected[f"{index}.weight"] = expected[f"{index}.bias"] = (layer["features"],)
        elif layer["type"] == "embedding":
            expected[f"{index}.weight"] = (layer["num_embeddings"], layer["embedding_dim"])
        elif layer["type"] == "conv1d":
            expected[f"{index}.weight"] = (layer["out"], layer["in"] // layer.get("groups", 1), layer["kernel"])
            if layer.get("bias", True):
                expected[f"{index}.bias"] = (layer["out"],)
        elif layer["type"] in ("batch_norm1d", "batch_norm2d"):
            for name in ("weight", "bias", "running_mean", "running_var"):
                expected[f"{index}.{name}"] = (layer["features"],)
            expected[f"{index}.num_batches_tracked"] = ()
        elif layer["type"] == "conv2d":
            k = layer["kernel"]
            expected[f"{index}.weight"] = (layer["out"], layer["in"] // layer.get("groups", 1), k, k)
            if layer.get("bias", True):
                expected[f"{index}.bias"] = (layer["out"],)
    actual = {name: tuple(t.shape) for name, t in weights.items()}
    if actual != expected:
        print(f"FAIL names/shapes: file {actual}, nn.Sequential {expected}")
        return 1
    print(f"ok names and shapes: {sorted(actual)}")

    rows = np.loadtxt(features_path, delimiter=",", ndmin=2)
    lockstep = np.loadtxt(outputs_path, delimiter=",", ndmin=2)
    numpy_out = loader.forward_numpy(model_path, rows)
    err = np.abs(numpy_out - lockstep).max()
    if not err <= 1e-5:
        print(f"FAIL numpy forward differs from Lockstep by {err}")
        return 1
    print(f"ok numpy forward: max |difference| {err:.2e}")

    try:
        import torch
    except ImportError:
        if os.environ.get("LOCKSTEP_REQUIRE_TORCH") == "1":
            print("FAIL torch is not installed, and LOCKSTEP_REQUIRE_TORCH=1 asks for the torch checks")
            return 1
        print("torch is not installed: the torch loader was not checked")
        return 0
    model, doc = loader.load_torch(model_path)
    with torch.no_grad():
        inputs = torch.tensor(loader.as_samples(doc, loader.standardize(doc, rows)))
        if doc["model"]["layers"][0]["type"] == "embedding":   # ids: nn.Embedding takes integers
            inputs = inputs.long()
        torch_out = model(inputs).numpy()
    err = np.abs(torch_out - lockstep).max()
    if not err <= 1e-5:
        print(f"FAIL torch.nn.Sequential differs from Lockstep by {err}")
        return 1
    print(f"ok torch.nn.Sequential via load_state_dict: max |difference| {err:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
