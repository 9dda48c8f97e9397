"""ONNX export: largest difference between dalam and onnxruntime on the exported file, and
inference time of both (float32, best of N repeats).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_onnx.py
"""
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
from dalam.models import LeNet5  # noqa: E402


def best(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main(repeats=7):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # compare one thread with one thread
    dalam.manual_seed(0)
    enc_layer = nn.TransformerEncoderLayer(128, 4, 512, batch_first=True)
    models = {
        "MLP 784-512-512-10 (W1)": (nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                                  nn.Linear(512, 10)), (784,), ["output"]),
        "LeNet5": (LeNet5(), (1, 28, 28), ["output"]),
        "LSTM 64->256, seq 64": (nn.LSTM(64, 256, batch_first=True), (64, 64), ["output", "h_n", "c_n"]),
        "TransformerEncoder 2x128, seq 64": (nn.TransformerEncoder(enc_layer, 2), (64, 128), ["output"]),
    }
    print(f"| model | batch | max abs diff | dalam ms | onnxruntime ms | dalam/ort |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (model, shape, outs) in models.items():
            path = os.path.join(tmp, "m.onnx")
            model.eval()
            dyn = {"input": {0: "batch"}, "output": {0: "batch"}}
            dyn.update({o: {1: "batch"} for o in outs[1:]})  # h_n, c_n: (layers, batch, hidden)
            dalam.onnx.export(model, dalam.randn(1, *shape), path, output_names=outs, dynamic_axes=dyn)
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            for batch in (1, 64):
                x = dalam.randn(batch, *shape)
                xa = x.numpy()
                with dalam.no_grad():
                    ref = model(x)
                    ref = (ref[0] if isinstance(ref, tuple) else ref).numpy()
                    t_d = best(lambda: model(x), repeats)
                got = sess.run(None, {"input": xa})[0]
                t_o = best(lambda: sess.run(None, {"input": xa}), repeats)
                diff = float(np.abs(got - ref).max())
                print(f"| {name} | {batch} | {diff:.1e} | {t_d * 1e3:.2f} | {t_o * 1e3:.2f} | {t_d / t_o:.1f} |")


if __name__ == "__main__":
    main()
