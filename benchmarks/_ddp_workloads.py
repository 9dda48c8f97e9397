"""The workloads the distributed benchmarks train (DESIGN.md's W1, W2 and the
W4 char-GPT), as (model, optimiser, batches, step) so every distributed
benchmark times the same thing.  ``batch`` is the per-process batch."""
import numpy as np

import dalam
import dalam.nn as nn
import dalam.nn.functional as F

DEFAULT_BATCH = {"w1": 128, "w2": 128, "gpt": 12}
GPT_CFG = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)


def build(name):
    dalam.manual_seed(0)
    if name == "w1":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    if name == "w2":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "gpt":
        from dalam.models.gpt import GPT, GPTConfig
        return GPT(GPTConfig(**GPT_CFG))
    raise ValueError(f"unknown workload {name!r} (w1, w2, gpt)")


def batches(name, batch, n, seed=0):
    g = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if name == "w1":
            x, y = g.standard_normal((batch, 784), np.float32), g.integers(0, 10, batch)
        elif name == "w2":
            x, y = g.standard_normal((batch, 1, 28, 28), np.float32), g.integers(0, 10, batch)
        else:
            x = g.integers(0, 65, (batch, 64))
            y = g.integers(0, 65, (batch, 64))
        out.append((dalam.tensor(x), dalam.tensor(y)))
    return out


def optimizer(name, model):
    if name == "gpt":
        return dalam.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    return dalam.optim.Adam(model.parameters(), lr=1e-3)


def loss_of(name, model, x, y):
    if name == "gpt":
        _, loss = model(x, y)
        return loss
    return F.cross_entropy(model(x), y)


def step(name, model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = loss_of(name, model, x, y)
    loss.backward()
    opt.step()
    return loss


def units(name, batch):
    """Samples (W1, W2) or tokens (GPT) per step of one process."""
    return batch * (64 if name == "gpt" else 1)
