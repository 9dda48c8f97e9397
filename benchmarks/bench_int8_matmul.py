"""Which way to multiply int8 values in NumPy? The GEMM shapes of the MNIST
CNN at batch 1 (fc1: 1x3136 @ 3136x128; conv2 im2col: 196x288 @ 288x64) and
batch 256 (fc1: 256x3136 @ 3136x128), timed for:

- float32 BLAS on the float weights (the float model's path);
- int8 x int8 with int32 accumulation by ``np.matmul(..., dtype=np.int32)``
  (NumPy has no BLAS for integers: a plain loop);
- int16 operands, int32 result (``np.matmul`` on int16 arrays);
- float32 BLAS on the integer values (dalam.compress's path, exact while
  partial sums stay below 2**24);
- float64 BLAS on the integer values (exact up to 2**53).

Best of ``--repeats`` timings (a shared machine: the best is the least noisy).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_int8_matmul.py
"""
import argparse
import time

import numpy as np


def best_us(f, repeats, inner):
    f()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            f()
        out.append((time.perf_counter() - t0) / inner * 1e6)
    return min(out)


def main(args):
    rng = np.random.default_rng(0)
    shapes = {"fc1 batch 1 (1x3136 @ 3136x128)": (1, 3136, 128),
              "conv2 batch 1 (196x288 @ 288x64)": (196, 288, 64),
              "fc1 batch 256 (256x3136 @ 3136x128)": (256, 3136, 128)}
    print("| GEMM | float32 BLAS | int8 -> int32 (np.matmul) | int16 -> int32 | float32 BLAS on int "
          "values | float64 BLAS on int values |\n|---|---|---|---|---|---|")
    for name, (m, k, n) in shapes.items():
        xq = rng.integers(0, 40, (m, k)).astype(np.int8)
        wq = rng.integers(-127, 128, (k, n)).astype(np.int8)
        xf, wf = rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32)
        x16, w16 = xq.astype(np.int16), wq.astype(np.int16)
        x32f, w32f = xq.astype(np.float32), wq.astype(np.float32)
        x64f, w64f = xq.astype(np.float64), wq.astype(np.float64)
        inner = 20 if m > 100 else 200
        r = args.repeats
        t = [best_us(lambda: xf @ wf, r, inner),
             best_us(lambda: np.matmul(xq, wq, dtype=np.int32), r, max(1, inner // 20)),
             best_us(lambda: np.matmul(x16, w16, dtype=np.int32), r, max(1, inner // 20)),
             best_us(lambda: x32f @ w32f, r, inner),
             best_us(lambda: x64f @ w64f, r, inner)]
        ref = np.matmul(xq.astype(np.int64), wq.astype(np.int64))
        assert np.array_equal((x32f @ w32f).astype(np.int64), ref)  # exact here
        print(f"| {name} | " + " | ".join(f"{v:.0f} us" for v in t) + " |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    main(ap.parse_args())
