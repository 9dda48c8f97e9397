"""Variable-length batches for recurrent layers: ``PackedSequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pad_sequence``,
``pack_sequence`` with PyTorch's layout and semantics.

A PackedSequence stores the steps of a sorted batch time-major without the
padding: ``data`` (sum(lengths), *), ``batch_sizes[t]`` = how many sequences
are still running at step t, ``sorted_indices`` the order by decreasing length
(None when the input was already sorted).  dalam's RNN layers run packed input
as a padded batch plus a lengths mask (states stop updating at each length)."""
from collections import namedtuple

import numpy as np

from ...autograd.function import Function
from ...backend import xp
from ...tensor import Tensor


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                   "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as in PyTorch."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def lengths(self):
        """Lengths in the original batch order (int64 array)."""
        bs = _arr(self.batch_sizes)
        ln = (np.arange(int(bs[0]))[:, None] < bs[None, :]).sum(1)
        if self.unsorted_indices is not None:
            ln = ln[_arr(self.unsorted_indices)]
        return ln


def _arr(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _invert(perm):
    p = _arr(perm)
    inv = np.empty_like(p)
    inv[p] = np.arange(len(p))
    return Tensor._make(inv, False, None)


def _long(a):
    return Tensor._make(np.asarray(a, np.int64), False, None)


def _pack_index(batch_sizes, sorted_indices):
    """(t_idx, b_idx) of every packed row: step t, original batch column."""
    bs = np.asarray(batch_sizes)
    t_idx = np.repeat(np.arange(len(bs)), bs)
    j = np.arange(len(t_idx)) - np.repeat(np.concatenate(([0], np.cumsum(bs)[:-1])), bs)
    b_idx = j if sorted_indices is None else np.asarray(sorted_indices)[j]
    return t_idx, b_idx


class _Gather(Function):
    """rows = x[t_idx, b_idx] (indices unique, so backward is a plain assignment)."""
    saves = ()

    def forward(self, x, t_idx, b_idx):
        self.shape, self.t, self.b = x.shape, t_idx, b_idx
        return x[t_idx, b_idx]

    def backward(self, g):
        out = xp.zeros(self.shape, g.dtype)
        out[self.t, self.b] = g
        return out, None, None


class _Scatter(Function):
    """padded = full(shape, value); padded[t_idx, b_idx] = rows."""
    saves = ()

    def forward(self, rows, shape, t_idx, b_idx, value):
        self.t, self.b = t_idx, b_idx
        out = xp.full(shape, value, rows.dtype)
        out[t_idx, b_idx] = rows
        return out

    def backward(self, g):
        return g[self.t, self.b]


def _lengths_array(lengths):
    ln = np.asarray(_arr(lengths)).astype(np.int64).reshape(-1)
    return ln


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) given the
    length of each sequence."""
    ln = _lengths_array(lengths)
    B = input.shape[0] if batch_first else input.shape[1]
    if len(ln) != B:
        raise ValueError(f"pack_padded_sequence: got {len(ln)} lengths for a batch of {B} "
                         f"(input shape {tuple(input.shape)}, batch_first={batch_first})")
    if ln.size and ln.min() <= 0:
        raise RuntimeError("pack_padded_sequence: every length must be greater than 0; "
                           f"got lengths {ln.tolist()}")
    T = input.shape[1] if batch_first else input.shape[0]
    if ln.size and ln.max() > T:
        raise RuntimeError(f"pack_padded_sequence: a length of {int(ln.max())} is longer than the "
                           f"padded sequence ({T} steps, input shape {tuple(input.shape)})")
    if enforce_sorted:
        if np.any(np.diff(ln) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing "
                               "order when `enforce_sorted` is True. You can pass "
                               "`enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not need "
                               "ONNX exportability.")
        sorted_idx = None
        sl = ln
    else:
        sorted_idx = np.argsort(-ln, kind="stable")
        sl = ln[sorted_idx]
    bs = (np.arange(int(sl[0]))[:, None] < sl[None, :]).sum(1) if sl.size else np.zeros(0, np.int64)
    t_idx, b_idx = _pack_index(bs, sorted_idx)
    if batch_first:
        data = _Gather.apply(input, b_idx, t_idx)
    else:
        data = _Gather.apply(input, t_idx, b_idx)
    return PackedSequence(data, _long(bs), None if sorted_idx is None else _long(sorted_idx), None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded, lengths) in the original batch order."""
    data, bs = sequence.data, _arr(sequence.batch_sizes)
    T = len(bs)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is smaller than the "
                             f"longest sequence ({T} steps)")
        T = total_length
    B = int(bs[0]) if len(bs) else 0
    si = None if sequence.sorted_indices is None else _arr(sequence.sorted_indices)
    t_idx, b_idx = _pack_index(bs, si)
    feat = tuple(data.shape[1:])
    if batch_first:
        out = _Scatter.apply(data, shape=(B, T) + feat, t_idx=b_idx, b_idx=t_idx, value=padding_value)
    else:
        out = _Scatter.apply(data, shape=(T, B) + feat, t_idx=t_idx, b_idx=b_idx, value=padding_value)
    return out, _long(sequence.lengths())


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding
    the shorter ones."""
    from ...ops.shape import pad as _pad, stack
    if len(sequences) == 0:
        raise ValueError("pad_sequence: got an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    T = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        n = T - s.shape[0]
        spec = [0, 0] * (s.ndim - 1) + ([0, n] if padding_side == "right" else [n, 0])
        padded.append(_pad(s, spec, value=padding_value) if n else s)
    return stack(padded, 1 if not batch_first else 0)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (L_i, *)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """List of the unpadded sequences of a padded batch."""
    ln = _lengths_array(lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(ln)]


def _repack(padded, like):
    """Pack a (T, B, *) padded output with the layout (batch_sizes, order) of ``like``."""
    bs = _arr(like.batch_sizes)
    si = None if like.sorted_indices is None else _arr(like.sorted_indices)
    t_idx, b_idx = _pack_index(bs, si)
    return PackedSequence(_Gather.apply(padded, t_idx, b_idx), like.batch_sizes,
                          like.sorted_indices, like.unsorted_indices)
