"""Transfer learning on SST-2 sentiment with all-MiniLM-L6-v2 in dalam.

1. Frozen: embed the sentences once with MiniLM (mean pooling + L2 norm),
   train a linear head (logistic regression) on top, report dev accuracy.
2. Fine-tune: also train the last ``--finetune-layers`` BERT layers with the
   head.  The frozen lower layers run once (their outputs are cached), so
   each epoch costs only the trained layers.

    python examples/sst2_minilm.py                       # defaults: 8000 train phrases
    python examples/sst2_minilm.py --train-size 67349    # the whole training set (slow on CPU)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import argparse
import time

import numpy as np

import dalam
from dalam import nn
from dalam.datasets.sst2 import SST2
from dalam.models.bert import SentenceEmbedder
from dalam.nn import functional as F


def train_head(xtr, ytr, xdev, ydev, epochs=60, lr=1e-2, batch=256, seed=0):
    """Logistic regression (nn.Linear + cross-entropy, Adam) on fixed embeddings."""
    dalam.manual_seed(seed)
    head = nn.Linear(xtr.shape[1], 2)
    opt = dalam.optim.Adam(head.parameters(), lr=lr, weight_decay=1e-4)
    g = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = g.permutation(len(xtr))
        for b in range(0, len(xtr), batch):
            i = perm[b:b + batch]
            loss = F.cross_entropy(head(dalam.tensor(xtr[i])), dalam.tensor(ytr[i]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with dalam.no_grad():
        acc = float((head(dalam.tensor(xdev)).detach().numpy().argmax(1) == ydev).mean())
    return head, acc


def batches(emb, sentences, labels, batch, order):
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        ids, mask, types = emb.tokenize([sentences[i] for i in idx])
        yield ids, mask, types, labels[idx]


def pooled(h, mask):
    m = dalam.tensor(mask.astype(np.float32)[:, :, None])
    e = (h * m).sum(1) / dalam.tensor(np.maximum(mask.sum(1, keepdims=True), 1).astype(np.float32))
    return e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)


def finetune(emb, head, train, dev, n_layers, epochs, lr, batch, seed):
    """Train the top ``n_layers`` BERT layers and the head together."""
    model = emb.model
    layers = list(model.encoder.layer)
    frozen, tuned = layers[:-n_layers], layers[-n_layers:]

    def lower(ids, mask, types):
        with dalam.no_grad():
            x = model.embeddings(dalam.tensor(ids), dalam.tensor(types))
            am = model.extended_mask(mask)
            for layer in frozen:
                x = layer(x, am)
        return x, am

    def cache(data):
        s, y = data
        order = np.argsort([len(t) for t in s], kind="stable")  # similar lengths share a batch
        out = []
        for ids, mask, types, lab in batches(emb, s, y, batch, order):
            x, am = lower(ids, mask, types)
            out.append((x, am, mask, lab))
        return out

    t0 = time.perf_counter()
    tr, dv = cache(train), cache(dev)
    print(f"  cached the {len(frozen)} frozen layers' outputs in {time.perf_counter() - t0:.0f} s")
    params = [p for layer in tuned for p in layer.parameters()] + list(head.parameters())
    opt = dalam.optim.AdamW(params, lr=lr, weight_decay=0.01)
    g = np.random.default_rng(seed)

    def run(x, am, mask):
        for layer in tuned:
            x = layer(x, am)
        return head(pooled(x, mask))

    accs = []
    for ep in range(epochs):
        model.train()
        for layer in frozen:
            layer.eval()
        for j in g.permutation(len(tr)):
            x, am, mask, lab = tr[j]
            loss = F.cross_entropy(run(x, am, mask), dalam.tensor(lab))
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with dalam.no_grad():
            correct = sum(int((run(x, am, mask).detach().numpy().argmax(1) == lab).sum()) for x, am, mask, lab in dv)
        accs.append(correct / sum(len(b[3]) for b in dv))
        print(f"  fine-tune epoch {ep + 1}: dev accuracy {accs[-1]:.4f} ({time.perf_counter() - t0:.0f} s)")
    return accs[-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-size", type=int, default=8000, help="random training phrases to use (of 67,349)")
    ap.add_argument("--finetune-size", type=int, default=8000, help="training phrases for fine-tuning (0: skip)")
    ap.add_argument("--finetune-layers", type=int, default=2)
    ap.add_argument("--finetune-epochs", type=int, default=2)
    ap.add_argument("--finetune-lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", default=None)
    args = ap.parse_args(argv)

    train, dev = SST2(root=args.root, split="train"), SST2(root=args.root, split="dev")
    g = np.random.default_rng(args.seed)
    pick = g.permutation(len(train))[:args.train_size]
    s_tr = [train.sentences[i] for i in pick]
    y_tr = train.labels[pick]
    emb = SentenceEmbedder.from_pretrained()

    t0 = time.perf_counter()
    x_tr = emb.encode(s_tr, batch_size=args.batch_size)
    x_dev = emb.encode(dev.sentences, batch_size=args.batch_size)
    t_emb = time.perf_counter() - t0
    print(f"embedded {len(s_tr)} train + {len(dev)} dev sentences in {t_emb:.0f} s "
          f"({(len(s_tr) + len(dev)) / t_emb:.0f} sentences/s)")
    head, acc = train_head(x_tr, y_tr, x_dev, dev.labels, seed=args.seed)
    print(f"frozen MiniLM + linear head: SST-2 dev accuracy {acc:.4f} ({len(s_tr)} training phrases)")

    if args.finetune_size and args.finetune_layers:
        n = min(args.finetune_size, len(s_tr))
        print(f"fine-tuning the last {args.finetune_layers} layer(s) + head on {n} phrases:")
        acc_ft = finetune(emb, head, (s_tr[:n], y_tr[:n]), (dev.sentences, dev.labels), args.finetune_layers,
                          args.finetune_epochs, args.finetune_lr, args.batch_size, args.seed)
        print(f"fine-tuned (last {args.finetune_layers} layer(s)): SST-2 dev accuracy {acc_ft:.4f}")


if __name__ == "__main__":
    main()
