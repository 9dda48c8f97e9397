"""Datasets for the CLI: arrays, loaders and the preprocessing record that a
checkpoint keeps so that eval/predict can prepare inputs the same way.

Image datasets give float32 (N, C, H, W) images scaled to [0, 1] and
standardised by the training mean/std; character datasets give
non-overlapping windows of ``block_size + 1`` character ids (inputs and the
targets shifted by one)."""
import pathlib

import numpy as np

from .main import CLIError


def _image_arrays(ds, train):
    from .. import datasets
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[ds["name"]]
    kw = {"subset": True} if ds.get("subset") else {"root": ds.get("root"), "download": ds.get("download", True)}
    try:
        d = cls(train=train, **kw)
    except (FileNotFoundError, OSError, RuntimeError) as e:
        raise CLIError(f"[dataset] {ds['name']}: {e}") from e
    x, y = d.as_tensors()
    return x._data, y._data, cls


def _limit(x, y, n):
    return (x, y) if not n else (x[:int(n)], y[:int(n)])


def image_preprocess(ds, cls, x):
    return {"kind": "image", "channels": int(x.shape[1]), "height": int(x.shape[2]),
            "width": int(x.shape[3]), "mean": float(cls.mean), "std": float(cls.std),
            "classes": list(cls.classes)}


def load_text(ds):
    if ds["name"] == "text":
        p = pathlib.Path(ds["path"])
        if not p.is_file():
            raise CLIError(f"[dataset] path: text file not found: {p}")
        try:
            return p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise CLIError(f"[dataset] path = {str(p)!r}: not UTF-8 text (byte {e.start} is "
                           f"0x{e.object[e.start]:02x}); give a text file") from None
    from ..datasets.shakespeare import load_text as shakespeare
    try:
        return shakespeare(ds.get("root"), ds.get("download", True))
    except (FileNotFoundError, OSError, RuntimeError) as e:
        raise CLIError(f"[dataset] tinyshakespeare: {e}") from e


def _windows(ids, T, limit=None):
    n = (len(ids) - 1) // T
    if n < 1:
        raise CLIError(f"[dataset] block_size: the text ({len(ids)} characters) is shorter than one "
                       f"window of block_size + 1 = {T + 1} characters; use a smaller block_size")
    if limit:
        n = min(n, int(limit))
    rows = np.arange(n)[:, None] * T + np.arange(T + 1)[None, :]
    w = ids[rows]
    return w[:, :-1].copy(), w[:, 1:].copy()


def char_splits(ds, vocab=None):
    """(x_train, y_train, x_val, y_val, vocab) of a character dataset."""
    from ..text import CharVocab
    text = load_text(ds)
    vocab = vocab or CharVocab.from_text(text)
    frac = 0.1 if ds["name"] == "tinyshakespeare" else float(ds.get("val_fraction", 0.1))
    cut = int(len(text) * (1 - frac))
    T = int(ds["block_size"])
    try:
        tr, va = vocab.encode(text[:cut]), vocab.encode(text[cut:])
    except KeyError as e:
        raise CLIError(f"[dataset] the text has characters the checkpoint's vocabulary lacks: {e}") from e
    xt, yt = _windows(tr, T, ds.get("limit"))
    if len(va) > T:
        xv, yv = _windows(va, T, ds.get("val_limit"))
    else:
        xv = yv = None
    return xt, yt, xv, yv, vocab


def carve_validation(x, y, fraction, seed):
    """Hold out ``fraction`` of the training examples (a seeded random choice) for
    validation: models are chosen on these, never on the test set, which is
    evaluated once at the end.  (train x, train y, val x, val y)."""
    k = int(round(len(x) * float(fraction or 0)))
    if k == 0:
        return x, y, None, None
    perm = np.random.default_rng(int(seed)).permutation(len(x))
    keep, held = np.sort(perm[k:]), np.sort(perm[:k])
    return x[keep], y[keep], x[held], y[held]


def load_splits(ds, seed=0):
    """(train arrays, val arrays, data_info for the model, preprocessing record).
    Image datasets: validation is carved from the training set (``val_split``,
    seeded by ``seed``); the test set is left for :func:`test_split`."""
    if ds["name"] in ("mnist", "fashion-mnist"):
        x, y, cls = _image_arrays(ds, True)
        xt, yt, xv, yv = carve_validation(x, y, ds.get("val_split", 0.1), seed)
        xt, yt = _limit(xt, yt, ds.get("limit"))
        if xv is not None:
            xv, yv = _limit(xv, yv, ds.get("val_limit"))
        pre = image_preprocess(ds, cls, xt)
        info = {"in_channels": pre["channels"], "in_features": int(np.prod(xt.shape[1:])),
                "num_classes": len(pre["classes"]), "input_size": pre["height"]}
        return (xt, yt), (xv, yv), info, pre
    xt, yt, xv, yv, vocab = char_splits(ds)
    pre = {"kind": "chars", "vocab": vocab.itos, "block_size": int(ds["block_size"])}
    return (xt, yt), (xv, yv), {"vocab_size": len(vocab)}, pre


def test_split(ds, pre, limit=None):
    """The evaluation arrays of a checkpoint's dataset (image: the test split;
    characters: the validation part of the text)."""
    if pre["kind"] == "image":
        x, y, _ = _image_arrays(ds, False)
        return _limit(x, y, limit)
    from ..text import CharVocab
    ds = dict(ds, val_limit=limit)
    _, _, xv, yv, _ = char_splits(ds, CharVocab(pre["vocab"]))
    if xv is None:
        raise CLIError("the text's validation part is shorter than one window; nothing to evaluate")
    return xv, yv


def loader(x, y, batch_size, shuffle, seed=0, distributed=False):
    from ..creation import Generator
    from ..data import DataLoader, DistributedSampler, TensorDataset
    data = TensorDataset(x, y)
    if distributed:  # this rank's share of each epoch's shuffle (dalam train --nproc)
        return DataLoader(data, batch_size=batch_size, sampler=DistributedSampler(data, shuffle=shuffle, seed=seed))
    g = Generator().manual_seed(seed) if shuffle else None
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=g)


def lm_loss(out, y):
    """Cross-entropy over every position: model outputs (logits, ...) or logits (B, T, V)."""
    from ..nn import functional as F
    logits = out[0] if isinstance(out, (tuple, list)) else out
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
