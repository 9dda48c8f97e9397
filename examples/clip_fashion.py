"""Zero-shot Fashion-MNIST with a CLIP-style model (dalam.models.CLIP).

A small CNN learns to put each image next to a caption of it ("a photo of a sweater made of
warm wool.") in the space of a *frozen* MiniLM sentence encoder plus a trained projection,
with CLIP's symmetric InfoNCE loss.  Three classes are held out of training entirely; at test
time they are classified from text prompts alone.  A supervised classifier with the same
image encoder, trained on the same images and epochs, is the yardstick for the seen classes.

    python examples/clip_fashion.py                        # full run (see docs/RESULTS.md)
    python examples/clip_fashion.py --quick                # seconds, small sizes
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import numpy as np

QUERIES = ["a shoe to wear on the beach in summer", "something to carry my things in",
           "warm clothes for a cold winter day", "a pair of blue jeans", "an elegant evening gown",
           "a boot with a high heel"]

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--width", type=int, default=16, help="channels of the first conv layer")
ap.add_argument("--embed-dim", type=int, default=128)
ap.add_argument("--held-out", default="2,5,8", help="Fashion-MNIST labels never seen in training")
ap.add_argument("--limit", type=int, default=0, help="use only this many training images")
ap.add_argument("--test-limit", type=int, default=0, help="use only this many test images")
ap.add_argument("--queries", type=int, default=2000, help="caption queries for retrieval recall@K")
ap.add_argument("--no-supervised", action="store_true", help="skip the supervised baseline")
ap.add_argument("--templates", type=int, default=0, help="use only this many caption templates")
ap.add_argument("--load", default=None, help="evaluate these trained weights instead of training")
ap.add_argument("--quick", action="store_true", help="tiny sizes, for tests")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--data", default=None, help="Fashion-MNIST folder (default: $DALAM_DATA)")
ap.add_argument("--out", default=None, help="folder for the weights and metrics.json")
ap.add_argument("--figure", default=None, help="PNG of the top images for free-text queries")


def batches(n, size, rng):
    order = rng.permutation(n)
    return [order[i:i + size] for i in range(0, n, size)]


def train_clip(model, x, y, text_emb, captions, args, log):
    import dalam
    from dalam.models.clip import clip_loss
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(y) + args.batch - 1) // args.batch)
    sched = dalam.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    rng = np.random.default_rng(args.seed)
    model.train()
    for epoch in range(args.epochs):
        t0, total, n = time.time(), 0.0, 0
        for idx in batches(len(y), args.batch, rng):
            cap = captions.sample_indices(y[idx])
            logits_i, logits_t = model(x[idx], text_emb[cap])
            loss = clip_loss(logits_i, logits_t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        log(f"clip epoch {epoch + 1}: loss {total / n:.4f}  temperature {1 / model.scale().item():.4f}  "
            f"({time.time() - t0:.0f} s)")


def train_supervised(encoder, head, x, y, args, log):
    import dalam
    import dalam.nn as nn
    import dalam.nn.functional as F
    model = nn.Sequential(encoder, head)
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(y) + args.batch - 1) // args.batch)
    sched = dalam.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    rng = np.random.default_rng(args.seed)
    yt = dalam.tensor(y)
    model.train()
    for epoch in range(args.epochs):
        t0, total, n = time.time(), 0.0, 0
        for idx in batches(len(y), args.batch, rng):
            loss = F.cross_entropy(model(x[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        log(f"supervised epoch {epoch + 1}: loss {total / n:.4f}  ({time.time() - t0:.0f} s)")
    model.eval()
    return model


def predict(model, x, batch=1000):
    import dalam
    with dalam.no_grad():
        return np.concatenate([model(x[i:i + batch]).argmax(1).numpy() for i in range(0, x.shape[0], batch)])


def recall_at_k(query_emb, query_class, gallery_emb, gallery_class, ks=(1, 5, 10)):
    """Class-level Recall@K (as in metric-learning retrieval): a query counts as recalled at K
    when at least one of its K nearest gallery images shows the query's class."""
    sims = query_emb @ gallery_emb.T
    top = np.argsort(-sims, axis=1)[:, :max(ks)]
    hit = gallery_class[top] == query_class[:, None]
    out = {f"R@{k}": float(hit[:, :k].any(1).mean()) for k in ks}
    out["P@10"] = float(hit[:, :10].mean())
    return out


def draw_queries(path, queries, top, images, labels, names):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    k = top.shape[1]
    fig, axes = plt.subplots(len(queries), k, figsize=(1.3 * k, 1.55 * len(queries)))
    axes = np.atleast_2d(axes)
    for r, q in enumerate(queries):
        for c in range(k):
            ax = axes[r, c]
            ax.imshow(images[top[r, c]], cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(names[labels[top[r, c]]], fontsize=6)
        axes[r, 0].set_title(f'"{q}"', loc="left", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args):
    import dalam
    import dalam.nn as nn
    from dalam.datasets import FashionMNIST
    from dalam.datasets.fashion_captions import FashionCaptions
    from dalam.models.bert import SentenceEmbedder
    from dalam.models.clip import CLIP, SmallImageEncoder

    if args.quick:
        args.epochs, args.limit, args.test_limit, args.queries, args.width = 1, 700, 300, 100, 8
        args.templates = 1
    t_start = time.time()
    log = lambda s: print(s, flush=True)  # noqa: E731
    dalam.manual_seed(args.seed)
    held_out = sorted(int(c) for c in args.held_out.split(","))
    seen = [c for c in range(10) if c not in held_out]
    train, test = FashionMNIST(root=args.data, train=True), FashionMNIST(root=args.data, train=False)
    names = train.classes
    x_train, y_train = train.as_tensors()
    x_test, y_test = test.as_tensors()
    y_train, y_test = y_train.numpy(), y_test.numpy()
    keep = np.flatnonzero(np.isin(y_train, seen))  # the held-out classes never appear in training
    if args.limit:
        keep = np.random.default_rng(args.seed).permutation(keep)[:args.limit]
    x_tr, y_tr = x_train[keep], y_train[keep]
    te = np.arange(len(y_test))
    if args.test_limit:
        te = np.random.default_rng(args.seed + 1).permutation(te)[:args.test_limit]
    x_te, y_te = x_test[te], y_test[te]
    log(f"train: {len(y_tr)} images of classes {[names[c] for c in seen]}; held out: "
        f"{[names[c] for c in held_out]}; test: {len(y_te)} images")

    # frozen text tower: every caption and prompt embedded once
    t0 = time.time()
    from dalam.datasets.fashion_captions import TEMPLATES
    templates = TEMPLATES[:args.templates] if args.templates else TEMPLATES
    captions = FashionCaptions(seed=args.seed, templates=templates)
    embedder = SentenceEmbedder.from_pretrained()
    text_emb = dalam.tensor(embedder.encode(captions.sentences, batch_size=64))
    prompts = [captions.prompts(c) for c in range(10)]
    prompt_emb = embedder.encode([p for ps in prompts for p in ps], batch_size=64)
    prompt_emb = prompt_emb.reshape(10, len(prompts[0]), -1)
    log(f"embedded {len(captions.sentences)} captions and {prompt_emb.shape[0] * prompt_emb.shape[1]} "
        f"prompts with frozen MiniLM in {time.time() - t0:.0f} s")

    model = CLIP(SmallImageEncoder(width=args.width), embed_dim=args.embed_dim, text_encoder=embedder)
    t0 = time.time()
    if args.load:
        model.load_state_dict(dalam.load(args.load))
    else:
        train_clip(model, x_tr, y_tr, text_emb, captions, args, log)
    clip_seconds = time.time() - t0
    model.eval()

    res = {"held_out": [names[c] for c in held_out], "train_images": int(len(y_tr)),
           "test_images": int(len(y_te)), "epochs": 0 if args.load else args.epochs, "clip_train_seconds": round(clip_seconds, 1)}
    m_seen, m_new = np.isin(y_te, seen), np.isin(y_te, held_out)
    # prompts that describe the class (its caption set: names x attributes x templates; the held-out
    # classes' captions were never used in training) vs the class names alone
    desc = np.stack([text_emb.numpy()[captions.by_class[c]] for c in range(10)])
    desc_logits = model.zero_shot_logits(x_te, model.class_embeddings(desc)).numpy()
    desc_pred = np.array(held_out)[desc_logits[m_new][:, held_out].argmax(1)]
    res["zero_shot_heldout_acc_descriptions"] = float((desc_pred == y_te[m_new]).mean())
    res["per_class_zero_shot_descriptions"] = {names[c]: float((desc_pred == c)[y_te[m_new] == c].mean())
                                               for c in held_out}
    class_emb = model.class_embeddings(prompt_emb)                    # (10, D): names only
    logits = model.zero_shot_logits(x_te, class_emb).numpy()
    seen_pred = np.array(seen)[logits[m_seen][:, seen].argmax(1)]
    new_pred = np.array(held_out)[logits[m_new][:, held_out].argmax(1)]
    res["zero_shot_heldout_acc"] = float((new_pred == y_te[m_new]).mean())
    res["zero_shot_heldout_chance"] = 1 / len(held_out)
    res["clip_seen_acc"] = float((seen_pred == y_te[m_seen]).mean())
    all_pred = logits.argmax(1)  # generalised zero-shot: all ten prompts compete
    res["gzsl_heldout_acc"] = float((all_pred[m_new] == y_te[m_new]).mean())
    res["gzsl_seen_acc"] = float((all_pred[m_seen] == y_te[m_seen]).mean())
    res["gzsl_chance"] = 0.1
    res["per_class_zero_shot"] = {names[c]: float((new_pred == c)[y_te[m_new] == c].mean()) for c in held_out}

    # retrieval: each query is a fresh caption of a test image, the gallery is the test set
    with dalam.no_grad():
        gal = np.concatenate([model.encode_image(x_te[i:i + 1000]).numpy() for i in range(0, len(y_te), 1000)])
    qrng = np.random.default_rng(args.seed + 2)
    qi = qrng.choice(len(y_te), size=min(args.queries, len(y_te)), replace=False)
    qcap = FashionCaptions(seed=args.seed + 3, templates=templates)
    q_sent = qcap.sample_indices(y_te[qi])
    with dalam.no_grad():
        q_emb = model.encode_text(text_emb[q_sent]).numpy()
    qc = y_te[qi]
    for tag, mask in (("all", np.ones(len(qi), bool)), ("seen", np.isin(qc, seen)), ("heldout", np.isin(qc, held_out))):
        for k, v in recall_at_k(q_emb[mask], qc[mask], gal, y_te).items():
            res[f"retrieval_{tag}_{k}"] = v

    if not args.no_supervised:
        dalam.manual_seed(args.seed)
        enc = SmallImageEncoder(width=args.width)
        remap = {c: i for i, c in enumerate(seen)}
        sup = train_supervised(enc, nn.Linear(enc.out_features, len(seen)), x_tr,
                               np.array([remap[c] for c in y_tr]), args, log)
        pred = np.array(seen)[predict(sup, x_te[np.flatnonzero(m_seen)])]
        res["supervised_seen_acc"] = float((pred == y_te[m_seen]).mean())
        res["seen_gap_points"] = 100 * (res["supervised_seen_acc"] - res["clip_seen_acc"])

    if args.figure:
        with dalam.no_grad():
            qe = model.encode_text_strings(QUERIES).numpy()
        top = np.argsort(-(qe @ gal.T), axis=1)[:, :8]
        draw_queries(args.figure, QUERIES, top, x_test.numpy()[te][:, 0] * test.std + test.mean, y_te, names)
        res["figure"] = args.figure
    res["wall_seconds"] = round(time.time() - t_start, 1)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        dalam.save(model.state_dict(), os.path.join(args.out, "clip_fashion.safetensors"))
        with open(os.path.join(args.out, "metrics.json"), "w") as f:
            json.dump(res, f, indent=1)
    for k, v in res.items():
        log(f"{k}: {round(v, 4) if isinstance(v, float) else v}")
    return res


if __name__ == "__main__":
    main(ap.parse_args())
