"""``embedding_bag``: sums, means or maxima of bags of embedding rows without
materialising the (bag, length, dim) tensor that ``embedding(...).sum(1)``
builds, as PyTorch's ``F.embedding_bag``.

Bags are runs of ``input`` (1-D) starting at ``offsets``, or the rows of a 2-D
``input``.  Entries equal to ``padding_idx`` are left out (and not counted by
'mean'); an empty bag gives zeros.  Elements are already grouped by bag, so a
bag's reduction is one ``ufunc.reduceat`` over the gathered rows; the backward
scatters the output gradient to the rows (dense, or row-sparse when
``sparse=True``) and, for ``per_sample_weights``, dots it with the rows.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.sparse_rows import SparseRows
from ..backend import xp
from ..tensor import Tensor
from .embedding import _scatter_rows, check_indices, renorm_rows_

MODES = ("sum", "mean", "max")


class EmbeddingBagFn(Function):
    saves = None

    def forward(self, weight, psw, info):
        idx, bag, nbags, mode, sparse, freq = info
        self.weight, self.psw = weight, psw
        self.idx, self.bag, self.nbags, self.mode, self.sparse = idx, bag, nbags, mode, sparse
        self.freq = freq
        D = weight.shape[1]
        out = xp.zeros((nbags, D), weight.dtype)
        if idx.size == 0:
            self.cnt = xp.zeros(nbags, weight.dtype)
            return out
        rows = xp.take(weight, idx, axis=0)
        if psw is not None:
            rows = rows * psw[:, None].astype(weight.dtype, copy=False)
        starts = xp.flatnonzero(xp.r_[True, bag[1:] != bag[:-1]])
        ub = bag[starts]
        self.starts, self.ub = starts, ub
        cnt = xp.bincount(bag, minlength=nbags).astype(weight.dtype)
        self.cnt = cnt
        if mode == "max":
            out[ub] = xp.maximum.reduceat(rows, starts, axis=0)
            eq = rows == out[bag]
            cum = xp.cumsum(eq, 0)
            base = (cum - eq)[starts]            # per nonempty bag, the count before it
            pos = xp.searchsorted(starts, xp.arange(idx.size), side="right") - 1
            self.first = eq & ((cum - base[pos]) == 1)  # first maximum per (bag, dim)
        else:
            out[ub] = xp.add.reduceat(rows, starts, axis=0)
            if mode == "mean":
                out /= xp.maximum(cnt, 1)[:, None]
        return out

    def backward(self, gy):
        idx, bag, w = self.idx, self.bag, self.weight
        if idx.size == 0:
            gw = SparseRows(idx, xp.zeros((0,) + w.shape[1:], w.dtype), w.shape) if self.sparse \
                else xp.zeros_like(w)
            return gw, (xp.zeros_like(self.psw) if self.psw is not None else None)
        g = gy[bag]                               # (n, D) per element
        if self.mode == "mean":
            g = g / xp.maximum(self.cnt, 1)[bag][:, None]
        elif self.mode == "max":
            g = g * self.first
        gpsw = None
        if self.psw is not None:
            gpsw = xp.einsum("nd,nd->n", g, xp.take(w, idx, axis=0)).astype(self.psw.dtype)
            g = g * self.psw[:, None].astype(g.dtype, copy=False)
        if self.freq:
            counts = xp.bincount(idx, minlength=w.shape[0]).astype(g.dtype)
            g = g / counts[idx][:, None]
        if self.sparse:
            gw = SparseRows(idx, xp.ascontiguousarray(g, dtype=w.dtype), w.shape)
        else:
            gw = _scatter_rows(idx, g, w.shape[0])
        return gw, gpsw


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Functional ``nn.EmbeddingBag``: (B, D) reductions of bags of rows."""
    where = "embedding_bag"
    if mode not in MODES:
        raise ValueError(f"{where}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if weight.ndim != 2:
        raise ValueError(f"{where}: weight must be 2-D (num_embeddings, dim), got shape "
                         f"{tuple(weight.shape)}")
    if mode == "max" and sparse:
        raise ValueError(f"{where}: max mode does not support sparse weights (sparse=True); use "
                         "mode='sum' or 'mean', or sparse=False")
    num = weight.shape[0]
    a = check_indices(input, num, where)
    psw = per_sample_weights
    if psw is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"{where}: per_sample_weights was not None. per_sample_weights is only supported "
                f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
        if tuple(psw.shape) != tuple(a.shape):
            raise ValueError(f"{where}: per_sample_weights has shape {tuple(psw.shape)}, expected "
                             f"the input's shape {tuple(a.shape)}")
    if a.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{where}: if input is 2-D (bags of equal length), offsets must be "
                             f"None, got offsets of shape {tuple(offsets.shape)}")
        nbags, L = a.shape
        bag = np.repeat(np.arange(nbags), L)
    elif a.ndim == 1:
        if offsets is None:
            raise ValueError(f"{where}: offsets has to be a 1-D tensor when input is 1-D (it marks "
                             "where each bag starts)")
        off = offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets)
        if off.ndim != 1 or off.dtype.kind not in "iu":
            raise ValueError(f"{where}: offsets must be a 1-D integer tensor, got shape "
                             f"{tuple(off.shape)} dtype {off.dtype}")
        off = off.astype(np.int64)
        if off.size and off[0] != 0:
            raise ValueError(f"{where}: offsets[0] has to be 0, i.e., the first sequence in the "
                             f"mini-batch has to start from position 0. However, got {off[0]}")
        if off.size and (np.any(np.diff(off) < 0) or off[-1] > a.size):
            raise ValueError(f"{where}: offsets must be non-decreasing and at most len(input) "
                             f"= {a.size}, got {off.tolist()[:10]}")
        ends = off[1:] if include_last_offset else np.r_[off[1:], a.size]
        starts = off[:-1] if include_last_offset else off
        nbags = len(starts)
        bag = np.repeat(np.arange(nbags), ends - starts)
        a = a[starts[0]:ends[-1]] if nbags else a[:0]
        if psw is not None and nbags:
            psw = psw[int(starts[0]):int(ends[-1])]
    else:
        raise ValueError(f"{where}: input has to be 1-D or 2-D, got shape {tuple(a.shape)}")
    idx = a.reshape(-1).astype(np.int64, copy=False)
    if psw is not None:
        psw = psw.reshape(-1)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{where}: padding_idx {padding_idx} must be within [-{num}, {num})")
        padding_idx %= num
        keep = idx != padding_idx
        if not keep.all():
            idx, bag = idx[keep], bag[keep]
            if psw is not None:
                psw = _select(psw, keep)
    if max_norm is not None:
        renorm_rows_(weight, idx, max_norm, norm_type)
    info = (idx, bag, nbags, mode, bool(sparse), bool(scale_grad_by_freq))
    return EmbeddingBagFn.apply(weight, psw, info)


def _select(psw, keep):
    """``psw[keep]`` keeping the graph (psw may be a Tensor needing a gradient)."""
    if isinstance(psw, Tensor):
        return psw[Tensor._make(keep, False, None)]
    return psw[keep]
