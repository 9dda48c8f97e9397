"""Tiny Shakespeare (Karpathy's char-rnn corpus): 1,115,394 characters, 65
distinct.  Split 90/10 into train/val by position, as nanoGPT's
shakespeare_char does, with one character vocabulary built from the whole
text so ids are the same in both splits."""
import numpy as np

from ..text import CharVocab
from . import _files

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
MD5 = "6fb458f1232090904fb40fe944165e91"
_REL = ("tinyshakespeare/input.txt", "tiny_shakespeare/input.txt", "shakespeare/input.txt", "input.txt")


def load_text(root=None, download=True):
    """The corpus as one string (found locally, else downloaded and checked)."""
    p = _files.find(_REL, root)
    if p is None:
        if not download:
            dirs = ", ".join(str(d) for d in _files.search_dirs(root))
            raise FileNotFoundError(f"TinyShakespeare: input.txt not found under {dirs} "
                                    "(looked for tinyshakespeare/input.txt); pass download=True")
        p = _files.download(URL, _files.search_dirs(root)[0] / "tinyshakespeare" / "input.txt", MD5)
    elif (p.parent.name in ("tinyshakespeare", "tiny_shakespeare", "shakespeare")
          or p.stat().st_size == 1115394) and _files.md5sum(p) != MD5:  # the known file, changed
        raise RuntimeError(f"TinyShakespeare: {p} has MD5 {_files.md5sum(p)}, expected {MD5}: the file is "
                           "corrupt; delete it and load again with download=True")
    return p.read_text(encoding="utf-8")


class TinyShakespeare:
    """Character-level Tiny Shakespeare.

    ``data`` is the split as an int64 id array; with ``block_size`` the dataset
    yields (x, y) pairs of non-overlapping windows with y shifted by one
    character.  ``get_batch`` draws random windows (nanoGPT style)."""

    def __init__(self, root=None, split="train", block_size=None, download=True):
        if split not in ("train", "val", "valid", "validation", "test"):
            raise ValueError(f"TinyShakespeare: split must be 'train' or 'val', got {split!r}")
        self.text_all = load_text(root, download)
        self.vocab = CharVocab.from_text(self.text_all)
        n = int(0.9 * len(self.text_all))
        self.split = "train" if split == "train" else "val"
        self.text = self.text_all[:n] if self.split == "train" else self.text_all[n:]
        self.data = self.vocab.encode(self.text)
        self.block_size = block_size

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        if self.block_size is None:
            return len(self.data)
        return (len(self.data) - 1) // self.block_size

    def __getitem__(self, i):
        from .. import tensor
        if self.block_size is None:
            return tensor(self.data[i])
        if not -len(self) <= i < len(self):
            raise IndexError(f"TinyShakespeare: index {i} out of range for {len(self)} windows")
        s = (i % len(self)) * self.block_size
        chunk = self.data[s:s + self.block_size + 1]
        return tensor(chunk[:-1]), tensor(chunk[1:])

    def get_batch(self, batch_size, block_size=None, generator=None):
        """Random windows: x, y int64 Tensors of shape (batch_size, block_size)."""
        from .. import backend, tensor
        T = block_size or self.block_size
        if T is None:
            raise ValueError("TinyShakespeare.get_batch: give block_size")
        g = generator if generator is not None else backend.rng()
        ix = g.integers(0, len(self.data) - T - 1, batch_size)
        rows = ix[:, None] + np.arange(T + 1)[None, :]
        chunk = self.data[rows]
        return tensor(chunk[:, :-1]), tensor(chunk[:, 1:])
