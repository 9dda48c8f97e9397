"""Why LSTMs beat plain RNNs: how much gradient reaches each time step.

For a loss on the LAST step's output, we measure ||dL/dx_t|| for every input
step t (t = T-1 is the most recent).  In a tanh RNN the gradient shrinks
geometrically going back in time (each step multiplies by W_hh^T diag(1-h^2));
an LSTM's additive cell state keeps it alive much longer (the forget gate,
initialised open-ish, scales it by f_t per step instead).

Both models get real text as input (Tiny Shakespeare characters through an
embedding) when the data is available, otherwise random vectors; results are
averaged over several random initialisations.

    python examples/vanishing_gradients.py                       # T=100, PNG in docs/figures
    python examples/vanishing_gradients.py --seq 200 --hidden 256 --out grad_norms.png
"""
import argparse
import os

# One BLAS thread by default: a recurrent step's GEMMs are small, and on a busy
# machine OpenBLAS's spinning threads make them many times slower.  Override
# with OPENBLAS_NUM_THREADS=2 on an idle machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402


def grad_norms(cell, x, hidden):
    """||dL/dx_t|| per step for L = sum of the last output, averaged over the batch."""
    kind = cell.split()[0]
    # float64 so that the tiny gradients far back in time do not underflow
    layer = {"RNN": dalam.nn.RNN, "LSTM": dalam.nn.LSTM, "GRU": dalam.nn.GRU}[kind](x.shape[-1], hidden).double()
    if "forget" in cell:   # the common trick: open the forget gate at init (bias +1)
        with dalam.no_grad():
            layer.bias_hh_l0.data[hidden:2 * hidden] += 1.0
    xin = dalam.tensor(x.astype(np.float64))
    xin.requires_grad_(True)
    out = layer(xin)[0]
    out[-1].sum().backward()
    return np.linalg.norm(xin.grad.detach().numpy(), axis=-1).mean(1)     # (T,)


def inputs(T, B, dim, root, rng):
    try:
        from dalam.datasets.shakespeare import TinyShakespeare
        ds = TinyShakespeare(root=root, split="train", download=False)
        x, _ = ds.get_batch(B, T, generator=rng)
        table = rng.standard_normal((ds.vocab_size, dim)).astype(np.float32)
        return table[x.detach().numpy()].transpose(1, 0, 2), "Tiny Shakespeare characters (random embedding)"
    except FileNotFoundError:
        return rng.standard_normal((T, B, dim)).astype(np.float32), "random inputs"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--embed", type=int, default=32)
    ap.add_argument("--inits", type=int, default=5, help="random initialisations to average")
    ap.add_argument("--root", default=None)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "figures", "vanishing_gradients.png"))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, src = inputs(args.seq, args.batch, args.embed, args.root, rng)
    res = {}
    for cell in ["RNN", "GRU", "LSTM", "LSTM forget+1"]:
        runs = []
        for k in range(args.inits):
            dalam.manual_seed(k)
            runs.append(grad_norms(cell, x, args.hidden))
        res[cell] = np.exp(np.mean(np.log(np.maximum(runs, 1e-30)), 0))  # geometric mean
    T = args.seq
    print(f"||dL/dx_t|| for a loss at the last step (T={T}, hidden {args.hidden}, {src}; "
          f"geometric mean of {args.inits} inits), relative to the last step:")
    print(f"{'steps back':>10} " + " ".join(f"{c:>14}" for c in res))
    for back in [0, 5, 10, 20, 40, 60, 80, T - 1]:
        if back < T:
            print(f"{back:>10} " + " ".join(f"{res[c][T - 1 - back] / res[c][T - 1]:>14.2e}" for c in res))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for c, style in zip(res, ["-", "--", "-", "-."]):
        ax.semilogy(np.arange(T)[::-1], res[c] / res[c][-1], style, label=c)
    ax.set_xlabel("steps back from the loss (T-1-t)")
    ax.set_ylabel("||dL/dx_t|| / ||dL/dx_{T-1}||")
    ax.set_title(f"Gradient reaching each time step (hidden {args.hidden}, PyTorch init)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"saved {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
