"""Load a Lockstep model file in Python.

A Lockstep model file is a safetensors file whose tensors are the state_dict of the equivalent
`torch.nn.Sequential` ("0.weight" [out, in], "0.bias", "2.weight", ...) and whose metadata key
"lockstep" holds a JSON document: the layers, the task, feature names, the standardization, class
labels and a training summary.

    model, doc = load_torch("model.safetensors")      # needs torch
    labels = predict_numpy("model.safetensors", rows)  # needs only numpy and safetensors
"""
import json

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file as load_numpy


def read_document(path):
    """The Lockstep document stored in the file's metadata."""
    with safe_open(path, "np") as f:
        metadata = f.metadata() or {}
    if "lockstep" not in metadata:
        raise ValueError(f"{path}: not a Lockstep model (no 'lockstep' metadata)")
    return json.loads(metadata["lockstep"])


def build_torch(layers):
    """The torch.nn.Sequential of a document's layer list (its state_dict names match the file)."""
    import torch.nn as nn

    modules = []
    for layer in layers:
        kind = layer["type"]
        if kind == "linear":
            modules.append(nn.Linear(layer["in"], layer["out"], bias=layer.get("bias", True)))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "tanh":
            modules.append(nn.Tanh())
        elif kind == "sigmoid":
            modules.append(nn.Sigmoid())
        elif kind == "gelu":
            modules.append(nn.GELU())
        elif kind == "dropout":
            modules.append(nn.Dropout(layer["p"]))
        elif kind == "layer_norm":
            modules.append(nn.LayerNorm(layer["features"], eps=layer.get("eps", 1e-5)))
        elif kind == "conv2d":
            modules.append(nn.Conv2d(layer["in"], layer["out"], layer["kernel"], stride=layer.get("stride", 1),
                                     padding=layer.get("padding", 0), dilation=layer.get("dilation", 1),
                                     groups=layer.get("groups", 1), bias=layer.get("bias", True)))
        elif kind == "conv1d":
            modules.append(nn.Conv1d(layer["in"], layer["out"], layer["kernel"], stride=layer.get("stride", 1),
                                     padding=layer.get("padding", 0), dilation=layer.get("dilation", 1),
                                     groups=layer.get("groups", 1), bias=layer.get("bias", True)))
        elif kind in ("batch_norm1d", "batch_norm2d"):
            kind_class = nn.BatchNorm1d if kind == "batch_norm1d" else nn.BatchNorm2d
            modules.append(kind_class(layer["features"], eps=layer.get("eps", 1e-5), momentum=layer.get("momentum", 0.1)))
        elif kind == "embedding":
            modules.append(nn.Embedding(layer["num_embeddings"], layer["embedding_dim"]))
        elif kind == "max_pool2d":
            modules.append(nn.MaxPool2d(layer["kernel"], stride=layer.get("stride", layer["kernel"])))
        elif kind == "avg_pool2d":
            modules.append(nn.AvgPool2d(layer["kernel"], stride=layer.get("stride", layer["kernel"])))
        elif kind == "adaptive_avg_pool2d":
            modules.append(nn.AdaptiveAvgPool2d(layer.get("output", 1)))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "identity":
            modules.append(nn.Identity())
        elif kind == "dropout2d":
            modules.append(nn.Dropout2d(layer["p"]))
        else:
            raise ValueError(f"unknown layer type {kind!r}")
    return nn.Sequential(*modules)


def load_torch(path):
    """(model, document): the rebuilt torch.nn.Sequential with the file's weights, in eval mode.
    A model with an "input_shape" takes samples of that shape: reshape rows with `as_samples`."""
    from safetensors.torch import load_file

    doc = read_document(path)
    model = build_torch(doc["model"]["layers"])
    model.load_state_dict(load_file(path), strict=True)
    model.eval()
    return model, doc


def standardize(doc, rows):
    """Applies the stored standardization to rows of features (a 2-D array)."""
    x = np.asarray(rows, dtype=np.float32)
    s = doc.get("standardization")
    if s:
        x = (x - np.asarray(s["mean"], dtype=np.float32)) / np.asarray(s["std"], dtype=np.float32)
    return x


def as_samples(doc, x):
    """Rows of features reshaped to the model's "input_shape" ([N, C, H, W] for images), if it has one."""
    shape = doc["model"].get("input_shape")
    return x.reshape([x.shape[0]] + list(shape)) if shape else x


def _windows(x, kernel, stride, padding=0, dilation=1):
    """Every window of a [N, C, H, W] array as [N, C, H', W', K, K] (zeros around when padded)."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, h, w = x.shape
    span = dilation * (kernel - 1) + 1
    oh, ow = (h - span) // stride + 1, (w - span) // stride + 1
    out = np.empty((n, c, oh, ow, kernel, kernel), dtype=x.dtype)
    for i in range(kernel):
        for j in range(kernel):
            out[..., i, j] = x[:, :, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                               j * dilation:j * dilation + stride * (ow - 1) + 1:stride]
    return out


def _conv2d(x, weight, bias, layer):
    groups = layer.get("groups", 1)
    windows = _windows(x, layer["kernel"], layer.get("stride", 1), layer.get("padding", 0), layer.get("dilation", 1))
    cg, og = x.shape[1] // groups, weight.shape[0] // groups
    parts = [np.einsum("nchwij,ocij->nohw", windows[:, g * cg:(g + 1) * cg], weight[g * og:(g + 1) * og]) for g in range(groups)]
    y = np.concatenate(parts, axis=1)
    return y + bias[None, :, None, None] if bias is not None else y


def _conv1d(x, weight, bias, layer):
    """A 1-D convolution as a 2-D one over planes of one row: [N, C, L] → [N, C, 1, L]."""
    stride, padding, dilation = layer.get("stride", 1), layer.get("padding", 0), layer.get("dilation", 1)
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    k = layer["kernel"]
    span = dilation * (k - 1) + 1
    length = (x.shape[2] - span) // stride + 1
    windows = np.stack([x[:, :, j * dilation:j * dilation + stride * (length - 1) + 1:stride] for j in range(k)], axis=-1)
    groups = layer.get("groups", 1)
    cg, og = x.shape[1] // groups, weight.shape[0] // groups
    parts = [np.einsum("nclk,ock->nol", windows[:, g * cg:(g + 1) * cg], weight[g * og:(g + 1) * og]) for g in range(groups)]
    y = np.concatenate(parts, axis=1)
    return y + bias[None, :, None] if bias is not None else y


def _batch_norm(x, weights, prefix, layer):
    """Inference batch norm over channel 1: the running statistics normalize."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = weights[f"{prefix}.running_mean"].astype(np.float64).reshape(shape)
    var = weights[f"{prefix}.running_var"].astype(np.float64).reshape(shape)
    scale, shift = weights[f"{prefix}.weight"].reshape(shape), weights[f"{prefix}.bias"].reshape(shape)
    return (x - mean) / np.sqrt(var + layer.get("eps", 1e-5)) * scale + shift


def forward_numpy(path, rows):
    """The model's raw outputs for rows of features, computed with numpy alone."""
    doc = read_document(path)
    weights = load_numpy(path)
    x = as_samples(doc, standardize(doc, rows).astype(np.float64))
    for index, layer in enumerate(doc["model"]["layers"]):
        kind = layer["type"]
        if kind == "linear":
            x = x @ weights[f"{index}.weight"].astype(np.float64).T
            if layer.get("bias", True):
                x = x + weights[f"{index}.bias"]
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "gelu":
            from math import erf, sqrt
            x = x * 0.5 * (1 + np.vectorize(erf)(x / sqrt(2)))
        elif kind == "dropout":
            pass
        elif kind == "layer_norm":
            mean = x.mean(axis=-1, keepdims=True)
            var = x.var(axis=-1, keepdims=True)
            x = (x - mean) / np.sqrt(var + layer.get("eps", 1e-5)) * weights[f"{index}.weight"] + weights[f"{index}.bias"]
        elif kind == "conv2d":
            bias = weights[f"{index}.bias"].astype(np.float64) if layer.get("bias", True) else None
            x = _conv2d(x, weights[f"{index}.weight"].astype(np.float64), bias, layer)
        elif kind == "conv1d":
            bias = weights[f"{index}.bias"].astype(np.float64) if layer.get("bias", True) else None
            x = _conv1d(x, weights[f"{index}.weight"].astype(np.float64), bias, layer)
        elif kind in ("batch_norm1d", "batch_norm2d"):
            x = _batch_norm(x, weights, index, layer)
        elif kind == "embedding":
            x = weights[f"{index}.weight"].astype(np.float64)[x.astype(np.int64)]
        elif kind == "max_pool2d":
            x = _windows(x, layer["kernel"], layer.get("stride", layer["kernel"])).max(axis=(4, 5))
        elif kind == "avg_pool2d":
            x = _windows(x, layer["kernel"], layer.get("stride", layer["kernel"])).mean(axis=(4, 5))
        elif kind == "adaptive_avg_pool2d":
            x = x.mean(axis=(2, 3), keepdims=True)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind in ("identity", "dropout2d"):
            pass
        else:
            raise ValueError(f"unknown layer type {kind!r}")
    return x


def unstandardize_target(doc, outputs):
    """Undoes the training-time standardization of regression targets: outputs · std + mean."""
    t = doc.get("target_standardization")
    if t:
        outputs = outputs * np.asarray(t["std"]) + np.asarray(t["mean"])
    return outputs


def predict_numpy(path, rows):
    """One prediction per row: the class label (a single output is a binary logit: class 1 when
    positive), or the regression outputs in the target's own units."""
    doc = read_document(path)
    out = forward_numpy(path, rows)
    if doc["task"] == "classification":
        labels = doc["class_labels"]
        classes = (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
        return [labels[i] for i in classes]
    return unstandardize_target(doc, out)
