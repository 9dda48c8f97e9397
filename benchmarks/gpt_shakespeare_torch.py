"""The W4 Tiny Shakespeare run of examples/gpt_shakespeare.py in PyTorch
(nanoGPT's model, ``torch.optim.AdamW``, the same data sampling, schedule and
evaluation), to compare the validation loss dalam reaches with PyTorch's::

    DALAM_DATA=../shared/data .venv/bin/python benchmarks/gpt_shakespeare_torch.py [--seed 1337]
"""
import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_gpt import TorchGPT  # noqa: E402
from dalam.datasets.shakespeare import TinyShakespeare  # noqa: E402
from dalam.models.gpt import GPTConfig  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = np.random.default_rng(args.seed)
    splits = {"train": TinyShakespeare(split="train"), "val": TinyShakespeare(split="val")}
    cfg = GPTConfig(vocab_size=splits["train"].vocab_size, n_layer=4, n_head=4, n_embd=128, block_size=64,
                    dropout=0.0, bias=False)
    m = TorchGPT(cfg)
    dec = [p for p in m.parameters() if p.dim() >= 2]
    nod = [p for p in m.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": dec, "weight_decay": 0.1}, {"params": nod, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def batch(ds):
        x, y = ds.get_batch(12, 64, generator=gen)
        return torch.from_numpy(x._data), torch.from_numpy(y._data)

    def lr_at(it, warmup=100, lo=1e-4, hi=1e-3):
        if it < warmup:
            return hi * (it + 1) / (warmup + 1)
        return lo + 0.5 * (1 + math.cos(math.pi * (it - warmup) / (args.iters - warmup))) * (hi - lo)

    t0 = time.perf_counter()
    for it in range(args.iters + 1):
        if it % 250 == 0 or it == args.iters:
            m.eval()
            with torch.no_grad():
                ev = {k: float(np.mean([m(*batch(d)).item() for _ in range(20)])) for k, d in splits.items()}
            m.train()
            print(f"iter {it:5d}: train loss {ev['train']:.4f}, val loss {ev['val']:.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if it == args.iters:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        loss = m(*batch(splits["train"]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()


if __name__ == "__main__":
    main()
