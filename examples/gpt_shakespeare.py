"""Train a character-level GPT on Tiny Shakespeare and print samples.

The default is the nanoGPT CPU configuration (W4: 4 layers, 4 heads,
n_embd 128, context 64, batch 12, dropout 0, AdamW lr 1e-3 with 100 warm-up
steps and a cosine decay to 1e-4, betas (0.9, 0.99), weight decay 0.1 on
matrices, gradient clipping at 1.0) for a SHORT run; the full run that
nanoGPT reports (val loss 1.88 after 2000 iterations) is::

    python examples/gpt_shakespeare.py --iters 2000

A larger model (``--config large``: 6 layers, 6 heads, n_embd 192, 3.3x the
parameters, same context and batch) goes further in the same iterations.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import argparse
import math
import time

import numpy as np

import dalam
from dalam.datasets.shakespeare import TinyShakespeare
from dalam.models import GPT
from dalam.models.gpt import GPTConfig

CONFIGS = {
    # bias=False: nanoGPT's default (no biases in Linear/LayerNorm)
    "w4": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0, bias=False, batch_size=12),
    "large": dict(n_layer=6, n_head=6, n_embd=192, block_size=64, dropout=0.0, bias=False, batch_size=12),
}


def lr_at(it, max_lr, min_lr, warmup, decay_iters):
    """nanoGPT's schedule: linear warm-up, cosine decay to min_lr, then flat."""
    if it < warmup:
        return max_lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    r = (it - warmup) / max(1, decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (max_lr - min_lr)


def estimate_loss(model, splits, batch_size, block_size, eval_iters, gen):
    model.eval()
    out = {}
    with dalam.no_grad():
        for name, ds in splits.items():
            losses = [model(*ds.get_batch(batch_size, block_size, generator=gen))[1].item()
                      for _ in range(eval_iters)]
            out[name] = float(np.mean(losses))
    model.train()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="w4")
    ap.add_argument("--iters", type=int, default=200, help="training iterations (nanoGPT's CPU run: 2000)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--eval-interval", type=int, default=250)
    ap.add_argument("--eval-iters", type=int, default=20, help="batches per loss estimate (nanoGPT CPU: 20)")
    ap.add_argument("--samples", type=int, default=300, help="characters to sample at the end")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--bias", action="store_true", help="biases in Linear/LayerNorm (nanoGPT default: none)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--save", default=None, help="write the trained weights to this .safetensors file")
    ap.add_argument("--root", default=None, help="data folder (default: $DALAM_DATA, ../shared/data, ~/.cache)")
    args = ap.parse_args(argv)

    c = dict(CONFIGS[args.config])
    batch_size = c.pop("batch_size")
    c["bias"] = c["bias"] or args.bias
    dalam.manual_seed(args.seed)
    gen = np.random.default_rng(args.seed)
    train = TinyShakespeare(root=args.root, split="train")
    val = TinyShakespeare(root=args.root, split="val")
    model = GPT(GPTConfig(vocab_size=train.vocab_size, **c))
    print(f"GPT {args.config}: {model.num_parameters() / 1e6:.2f}M parameters, vocab {train.vocab_size}, "
          f"{args.iters} iterations of {batch_size}x{c['block_size']} tokens")

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = dalam.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))
    splits = {"train": train, "val": val}
    t0 = time.perf_counter()
    for it in range(args.iters + 1):
        if it % args.eval_interval == 0 or it == args.iters:
            ev = estimate_loss(model, splits, batch_size, c["block_size"], args.eval_iters, gen)
            print(f"iter {it:5d}: train loss {ev['train']:.4f}, val loss {ev['val']:.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if it == args.iters:
            break
        lr = lr_at(it, args.lr, args.min_lr, args.warmup, args.iters)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = train.get_batch(batch_size, c["block_size"], generator=gen)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        dalam.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    wall = time.perf_counter() - t0
    tokens = args.iters * batch_size * c["block_size"]
    print(f"trained {args.iters} iterations in {wall:.1f} s ({tokens / wall:.0f} tokens/s, evaluation included)")

    prompt = dalam.tensor(train.vocab.encode("\n")[None])
    out = model.generate(prompt, args.samples, temperature=args.temperature, top_k=args.top_k)
    print("---- sample ----")
    print(train.vocab.decode(out.detach().numpy()[0]))
    if args.save:
        from safetensors.numpy import save_file
        save_file({k: np.ascontiguousarray(v.detach().numpy()) for k, v in model.state_dict().items()
                   if k != "lm_head.weight" or not model.config.weight_tying}, args.save)
        print(f"saved weights to {args.save}")


if __name__ == "__main__":
    main()
