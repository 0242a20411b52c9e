"""The tests' check of an exported ONNX model (Tests/LockstepTests/ONNXExportTests.swift):
onnx.checker passes, ONNX Runtime (CPU) gives Lockstep's outputs on the same inputs — norm-wise
within 1e-5 and elementwise |a - b| <= 1e-5 + 1e-4 |b| — and the same classes; with a fourth
argument (Lockstep's predictions, one per line), lockstep_onnx.predict gives them too.

Usage: python check_onnx.py MODEL.onnx INPUTS.csv OUTPUTS.csv [PREDICTIONS.txt]
"""
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).parent))
from lockstep_onnx import predict  # noqa: E402


def main():
    path, inputs, outputs = sys.argv[1:4]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.loadtxt(inputs, delimiter=",", dtype=np.float32, ndmin=2)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    want = np.loadtxt(outputs, delimiter=",", dtype=np.float32, ndmin=2).reshape(got.shape)
    norm = np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)
    worst = np.max(np.abs(got - want) - (1e-5 + 1e-4 * np.abs(want)))
    if norm > 1e-5 or worst > 0:
        sys.exit(f"outputs differ: norm-wise {norm:.3g}, worst elementwise excess {worst:.3g}")
    if got.shape[-1] > 1 and not np.array_equal(got.argmax(-1), want.argmax(-1)):
        sys.exit("the predicted classes differ")
    if len(sys.argv) > 4:
        expected = Path(sys.argv[4]).read_text().split("\n")[:-1]
        labels = predict(path, x)
        if [str(v) for v in labels] != expected:
            sys.exit(f"lockstep_onnx.predict gives {labels[:5]}…, lockstep predict {expected[:5]}…")
    print(f"ok onnx opset {model.opset_import[0].version}: {got.shape}, norm-wise {norm:.2g}")


if __name__ == "__main__":
    main()
