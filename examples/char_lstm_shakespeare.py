"""Character-level LSTM on Tiny Shakespeare (Karpathy's char-rnn), then samples.

Trains Embedding -> LSTM -> Linear on random windows of the 90% train split
(nanoGPT's split), reports the validation loss in nats/char over the whole
10% val split, and prints generated text.

    python examples/char_lstm_shakespeare.py                 # short demo (~1 min)
    python examples/char_lstm_shakespeare.py --hidden 512 --steps 3000 --batch 64 --seq 128

Data: tinyshakespeare/input.txt under --root, $DALAM_DATA or ~/.cache/dalam
(downloaded and checked when missing).
"""
import argparse
import os

# One BLAS thread by default: a recurrent step's GEMMs are small, and on a busy
# machine OpenBLAS's spinning threads make them many times slower.  Override
# with OPENBLAS_NUM_THREADS=2 on an idle machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import math
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from dalam.datasets.shakespeare import TinyShakespeare  # noqa: E402
from dalam.models.char_rnn import CharRNN  # noqa: E402


def clip_grad_norm(params, max_norm):
    """Scale all gradients so their global L2 norm is at most max_norm."""
    gs = [p.grad.detach().numpy() for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in gs))
    if total > max_norm:
        s = np.float32(max_norm / (total + 1e-6))
        for g in gs:
            g *= s
    return total


def evaluate(model, data, seq, batch=256):
    """Mean cross-entropy (nats/char) over all non-overlapping windows of ``data``."""
    n = (len(data) - 1) // seq
    rows = np.arange(n)[:, None] * seq + np.arange(seq + 1)[None, :]
    windows = data[rows]
    model.eval()
    total, count = 0.0, 0
    with dalam.no_grad():
        for i in range(0, n, batch):
            w = windows[i:i + batch]
            logits, _ = model(dalam.tensor(w[:, :-1]))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), dalam.tensor(w[:, 1:].reshape(-1)),
                                   reduction="sum")
            total += float(loss.item())
            count += w[:, 1:].size
    model.train()
    return total / count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None, help="data folder (else $DALAM_DATA, ~/.cache/dalam)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4, help="cosine decay floor")
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=0, help="0: only at the end")
    ap.add_argument("--sample-len", type=int, default=400)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--prompt", default="ROMEO:\n")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--save", default=None, help="write the weights (safetensors) here")
    args = ap.parse_args()

    dalam.manual_seed(args.seed)
    train = TinyShakespeare(root=args.root, split="train")
    val = TinyShakespeare(root=args.root, split="val")
    V = train.vocab_size
    model = CharRNN(V, args.embed, args.hidden, args.layers, "lstm", args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    g = np.random.default_rng(args.seed)
    print(f"char-LSTM: vocab {V}, embed {args.embed}, hidden {args.hidden} x {args.layers}, "
          f"{n_params:,} parameters; batch {args.batch} x seq {args.seq}, {args.steps} steps")
    t0 = time.time()
    for step in range(1, args.steps + 1):
        lr = args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * (step - 1) / args.steps))
        for grp in opt.param_groups:
            grp["lr"] = lr
        x, y = train.get_batch(args.batch, args.seq, generator=g)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), args.clip)
        opt.step()
        if step % 50 == 0 or step == 1:
            dt = time.time() - t0
            print(f"step {step:5d}  train loss {loss.item():.3f}  lr {lr:.2e}  "
                  f"{step * args.batch * args.seq / dt:,.0f} tokens/s")
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:
            print(f"step {step:5d}  val loss {evaluate(model, val.data, args.seq):.4f}")
    train_time = time.time() - t0
    vl = evaluate(model, val.data, args.seq)
    print(f"final val loss {vl:.4f} nats/char ({vl / math.log(2):.3f} bits/char) after {args.steps} steps, "
          f"{train_time:.0f} s training")
    ids = model.generate(train.vocab.encode(args.prompt), args.sample_len, temperature=args.temperature,
                         top_k=args.top_k, generator=np.random.default_rng(args.seed))
    print("---- sample (temperature %.2f) ----" % args.temperature)
    print(args.prompt + train.vocab.decode(ids))
    if args.save:
        from safetensors.numpy import save_file
        save_file({k: np.ascontiguousarray(v.detach().numpy()) for k, v in model.state_dict().items()}, args.save,
                  metadata={"vocab": train.vocab.to_json()})
        print(f"saved weights to {args.save}")


if __name__ == "__main__":
    main()
