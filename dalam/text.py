"""Text utilities for small language models: a character vocabulary, a word
vocabulary for classifiers, and sampling from logits (temperature, top-k,
top-p) for generation."""
import json
from collections import Counter

import numpy as np

from . import backend
from .tensor import Tensor


class CharVocab:
    """Characters <-> integer ids, ids in sorted character order (as nanoGPT's
    shakespeare_char, so ids match across tools)."""

    def __init__(self, chars):
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab: characters must be unique")
        self.itos = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        return cls(sorted(set(text)))

    build = from_text

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        """str -> int64 array of ids; unknown characters raise a clear error."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise KeyError(f"CharVocab.encode: character {e.args[0]!r} is not in the vocabulary "
                           f"of {len(self)} characters") from None

    def decode(self, ids):
        """ids (list, array or Tensor) -> str."""
        if isinstance(ids, Tensor):
            ids = ids._data
        ids = np.asarray(ids).reshape(-1)
        n = len(self.itos)
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise IndexError(f"CharVocab.decode: id out of range [0, {n})")
        return "".join(self.itos[int(i)] for i in ids)

    def to_json(self):
        return json.dumps({"chars": self.itos})

    @classmethod
    def from_json(cls, s):
        return cls(json.loads(s)["chars"])


class WordVocab:
    """Whitespace tokens -> ids with ``<pad>`` = 0 and ``<unk>`` = 1, built from
    training text (tokens seen at least ``min_freq`` times)."""
    PAD, UNK = 0, 1

    def __init__(self, tokens):
        self.itos = ["<pad>", "<unk>"] + [t for t in tokens if t not in ("<pad>", "<unk>")]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, texts, min_freq=1, max_size=None, lower=True):
        c = Counter(tok for s in texts for tok in (s.lower() if lower else s).split())
        toks = [t for t, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_freq]
        return cls(toks[:max_size] if max_size else toks)

    def __len__(self):
        return len(self.itos)

    def encode(self, text, lower=True):
        s = text.lower() if lower else text
        return [self.stoi.get(t, self.UNK) for t in s.split()]

    def encode_batch(self, texts, max_len=None):
        """Pad a list of texts to one int64 array (B, L) and return the lengths too."""
        seqs = [self.encode(t)[:max_len] if max_len else self.encode(t) for t in texts]
        lengths = np.array([max(len(s), 1) for s in seqs], np.int64)
        out = np.zeros((len(seqs), int(lengths.max()) if len(seqs) else 0), np.int64)
        for i, s in enumerate(seqs):
            out[i, :len(s)] = s
        return out, lengths

    def decode(self, ids):
        return " ".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1) if int(i) != self.PAD)


def filter_logits(logits, top_k=None, top_p=None):
    """Set logits outside the top-k set and/or the top-p nucleus to -inf
    (numpy array (..., V)); the most likely token is always kept."""
    z = np.array(logits, dtype=np.float64, copy=True)
    V = z.shape[-1]
    if top_k is not None and 0 < top_k < V:
        kth = np.partition(z, V - top_k, axis=-1)[..., V - top_k:V - top_k + 1]
        z[z < kth] = -np.inf
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-z, axis=-1)
        zs = np.take_along_axis(z, order, -1)
        p = np.exp(zs - zs[..., :1])
        p /= p.sum(-1, keepdims=True)
        cum = np.cumsum(p, -1)
        drop = cum - p > top_p          # tokens after the nucleus is already full
        zs[drop] = -np.inf
        np.put_along_axis(z, order, zs, -1)
    return z


def sample_logits(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draw token ids from logits (Tensor or array, (V,) or (B, V)).

    temperature 0 means greedy (argmax); lower temperature sharpens the
    distribution, higher flattens it."""
    z = logits._data if isinstance(logits, Tensor) else np.asarray(logits)
    if temperature < 0:
        raise ValueError(f"sample_logits: temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return np.argmax(z, axis=-1)
    z = filter_logits(np.asarray(z, np.float64) / temperature, top_k, top_p)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    g = generator if generator is not None else backend.rng()
    flat = p.reshape(-1, p.shape[-1])
    u = g.random(flat.shape[0])
    ids = (flat.cumsum(-1) < u[:, None]).sum(-1)
    ids = np.minimum(ids, flat.shape[-1] - 1)
    return ids.reshape(p.shape[:-1])
