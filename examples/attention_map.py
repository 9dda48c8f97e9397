"""Which words attend to which: all-MiniLM-L6-v2's attention for one sentence,
drawn as heat maps (rows: the attending token, columns: the attended one).

The weights are recomputed from each layer's input hidden state with that
layer's own query/key projections: softmax(q k^T / sqrt(d_head)), exactly
what the model's fused attention op computes inside.

    python examples/attention_map.py --out attention_map.png
    python examples/attention_map.py "The animal didn't cross the street because it was tired." --layer 4
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import argparse
import math

import numpy as np

import dalam
from dalam.models.bert import SentenceEmbedder


def attention_weights(model, ids, mask):
    """Per layer: (heads, T, T) attention probabilities for one sentence."""
    with dalam.no_grad():
        _, _, hidden = model(dalam.tensor(ids), dalam.tensor(mask), output_hidden_states=True)
        out = []
        for layer, h in zip(model.encoder.layer, hidden[:-1]):
            sa = getattr(layer.attention, "self")
            B, T, C = h.shape
            H, d = sa.num_heads, sa.head_dim
            q = sa.query(h).detach().numpy().reshape(B, T, H, d).transpose(0, 2, 1, 3)
            k = sa.key(h).detach().numpy().reshape(B, T, H, d).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
            s = s - s.max(-1, keepdims=True)
            p = np.exp(s)
            out.append((p / p.sum(-1, keepdims=True))[0])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sentence", nargs="?", default="The cat sat on the mat because it was warm.")
    ap.add_argument("--layer", type=int, default=None, help="one layer (0-5); default: all six, heads averaged")
    ap.add_argument("--out", default="attention_map.png")
    args = ap.parse_args(argv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    emb = SentenceEmbedder.from_pretrained()
    ids, mask, _ = emb.tokenize([args.sentence])
    tokens = [emb.tokenizer.id_to_token(int(i)) for i in ids[0]]
    weights = attention_weights(emb.model, ids, mask)
    if args.layer is None:
        panels = [(f"layer {i} (mean of {w.shape[0]} heads)", w.mean(0)) for i, w in enumerate(weights)]
    else:
        w = weights[args.layer]
        panels = [(f"layer {args.layer}, head {h}", w[h]) for h in range(w.shape[0])]
    cols = 3 if len(panels) <= 6 else 4
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.2 * rows))
    for ax, (title, a) in zip(np.ravel(axes), panels):
        # square-root colour scale: [CLS]/[SEP] soak up much attention; the rest stays visible
        ax.imshow(a, cmap="viridis", norm=PowerNorm(0.5, vmin=0, vmax=float(a.max())))
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=7)
    for ax in np.ravel(axes)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"all-MiniLM-L6-v2 attention: {args.sentence!r}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"tokens: {tokens}")
    # the strongest link per token in the last layer (heads averaged), skipping [CLS]/[SEP]
    last = weights[-1].mean(0)
    for i, t in enumerate(tokens):
        if t in ("[CLS]", "[SEP]"):
            continue
        a = last[i].copy()
        a[[0, len(tokens) - 1]] = 0
        j = int(a.argmax())
        print(f"  {t:>10s} -> {tokens[j]:<10s} {last[i, j]:.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
