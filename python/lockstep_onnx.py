"""Predict with a Lockstep model exported to ONNX (`lockstep export MODEL.safetensors --onnx model.onnx`),
with ONNX Runtime alone: raw feature rows in, what `lockstep predict` prints out.

    from lockstep_onnx import predict
    predict("iris.onnx", [[5.1, 3.5, 1.4, 0.2]])      # ['setosa'] (class labels), or values for regression
"""
import json

import numpy as np
import onnxruntime as ort


def predict(onnx_path, rows):
    """One prediction per row of raw features, as `lockstep predict` gives it: the class label (a
    model with one output, trained with --loss bce, predicts class 1 where its logit is positive),
    or for regression the predicted value (a list of values when the model predicts several)."""
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    labels = json.loads(session.get_modelmeta().custom_metadata_map["class_labels"])
    logits = session.run(["logits"], {"features": np.asarray(rows, dtype=np.float32)})[0]
    if not labels:
        return [row[0] if len(row) == 1 else row for row in logits.tolist()]
    classes = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(axis=1)
    return [labels[c] for c in classes]
