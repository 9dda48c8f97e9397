"""SST-2 sentiment with a bidirectional LSTM (or GRU) classifier trained from
scratch (no pretrained word vectors).

Words -> Embedding (padding_idx 0, dropout) -> packed BiLSTM -> [max-pool over
time of the outputs ; final forward and backward states] -> dropout -> Linear.
Trained on GLUE's train.tsv (67,349 phrases and sentences), evaluated on
dev.tsv (872 sentences; GLUE test labels are not public).  Batches are
bucketed by length so little time goes into padding.

    python examples/sst2_rnn.py                      # 1 epoch, BiLSTM 128 (~2-3 min)
    python examples/sst2_rnn.py --epochs 2           # dev >= 80% (docs/RESULTS.md)
    python examples/sst2_rnn.py --cell gru --epochs 2
"""
import argparse
import os

# One BLAS thread by default: a recurrent step's GEMMs are small, and on a busy
# machine OpenBLAS's spinning threads make them many times slower.  Override
# with OPENBLAS_NUM_THREADS=2 on an idle machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn as nn  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from dalam.datasets.sst2 import SST2  # noqa: E402
from dalam.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402
from dalam.text import WordVocab  # noqa: E402


class RNNClassifier(nn.Module):
    def __init__(self, vocab_size, embed=128, hidden=128, cell="lstm", dropout=0.5, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed, padding_idx=0)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(embed, hidden, batch_first=True,
                                                          bidirectional=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden, classes)
        self.cell = cell

    def forward(self, ids, lengths):
        e = self.drop(self.embed(ids))
        out, state = self.rnn(pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False))
        h = state[0] if self.cell == "lstm" else state
        padded, _ = pad_packed_sequence(out, batch_first=True, padding_value=-1e4)
        pooled = padded.amax(1)                                  # max over the real steps only
        feat = dalam.cat([pooled, h[0], h[1]], -1)
        return self.head(self.drop(feat))


def batches(lengths, batch, rng, bucket=50):
    """Index batches of similar lengths, in random order."""
    idx = rng.permutation(len(lengths))
    out = []
    for s in range(0, len(idx), batch * bucket):
        chunk = idx[s:s + batch * bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
    return [out[i] for i in rng.permutation(len(out))]


def evaluate(model, x, ln, y, batch=256):
    model.eval()
    correct = 0
    with dalam.no_grad():
        for s in range(0, len(y), batch):
            L = int(ln[s:s + batch].max())
            logits = model(dalam.tensor(x[s:s + batch, :L]), ln[s:s + batch])
            correct += int((logits.detach().numpy().argmax(-1) == y[s:s + batch]).sum())
    model.train()
    return 100.0 * correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None)
    ap.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-len", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training rows (quick check)")
    args = ap.parse_args()

    dalam.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, dev = SST2(root=args.root, split="train"), SST2(root=args.root, split="dev")
    if args.limit:
        train.sentences, train.labels = train.sentences[:args.limit], train.labels[:args.limit]
    vocab = WordVocab.build(train.sentences, min_freq=1)
    xtr, ltr = vocab.encode_batch(train.sentences, args.max_len)
    xdv, ldv = vocab.encode_batch(dev.sentences, args.max_len)
    ytr, ydv = train.labels, dev.labels
    model = RNNClassifier(len(vocab), args.embed, args.hidden, args.cell, args.dropout)
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    print(f"SST-2: {len(ytr)} train / {len(ydv)} dev, vocab {len(vocab)}; Bi{args.cell.upper()} "
          f"{args.hidden}, {sum(p.numel() for p in model.parameters()):,} parameters")
    best = 0.0
    t0 = time.time()
    for ep in range(1, args.epochs + 1):
        tot, n = 0.0, 0
        for k, b in enumerate(batches(ltr, args.batch, rng)):
            L = int(ltr[b].max())
            logits = model(dalam.tensor(xtr[b, :L]), ltr[b])
            loss = F.cross_entropy(logits, dalam.tensor(ytr[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.item()) * len(b)
            n += len(b)
            if k % 200 == 0:
                print(f"  epoch {ep} batch {k:4d}  loss {tot / n:.3f}  ({time.time() - t0:.0f} s)")
        acc = evaluate(model, xdv, ldv, ydv)
        best = max(best, acc)
        print(f"epoch {ep}: train loss {tot / n:.3f}, dev accuracy {acc:.1f}% ({time.time() - t0:.0f} s)")
    print(f"final dev accuracy {acc:.1f}% (best epoch {best:.1f}%)")


if __name__ == "__main__":
    main()
