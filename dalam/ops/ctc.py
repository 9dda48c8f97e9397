"""Connectionist Temporal Classification loss (Graves et al. 2006) as one
Function: log-space forward (alpha) and backward (beta) recursions over the
blank-extended target, vectorised over the batch and the extended labels,
with a loop over time only.

Semantics follow ``torch.nn.functional.ctc_loss``: log_probs (T, N, C) (or
(T, C)), targets padded (N, S) or concatenated (sum of target_lengths),
reductions 'mean' (each loss divided by its target length, then averaged),
'sum', 'none', ``zero_infinity``. The gradient is PyTorch's: for log-probs
that come from a log_softmax, d loss / d log_probs[t, c] = exp(lp[t, c]) -
posterior occupancy of class c at t; composed with log_softmax's backward this
is the exact gradient of the logits (the exp term then cancels), which is how
CTC is always used. (Taken alone, the exact derivative w.r.t. unnormalised
log_probs would be minus the occupancy: torch's choice is matched on purpose.)

One difference, asked for by dalam's error rules: a target longer than its
input (which no alignment can fit) raises a ValueError naming the sample and
the lengths, unless ``zero_infinity=True`` (then its loss and gradient are 0).
Targets that fit only without their required blanks between repeats still
give ``inf`` as in PyTorch."""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

_NEG = -np.inf


def _lse(a, b, c):
    """log(exp(a) + exp(b) + exp(c)) elementwise; -inf where all three are -inf (no warnings)."""
    m = np.maximum(np.maximum(a, b), c)
    finite = m > _NEG
    safe = np.where(finite, m, 0.0)
    s = np.exp(a - safe) + np.exp(b - safe) + np.exp(c - safe)    # >= 1 where finite
    return np.log(np.where(finite, s, 1.0)) + m


def _as_int_array(x, name):
    if isinstance(x, Tensor):
        x = x._data
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise TypeError(f"ctc_loss: {name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64).reshape(-1) if name != "targets" else a.astype(np.int64)


class CTCLossFn(Function):
    saves = None

    def forward(self, lp, ext, skip, in_len, s_len, blank, zero_infinity):
        T, N, C = lp.shape
        lp64 = lp.astype(np.float64)
        S2 = ext.shape[1]                       # 2 * S_max + 1
        bidx = np.arange(N)[:, None]
        emit = lp64[:, bidx, ext]               # (T, N, S2): lp[t, n, ext[n, s]]
        valid = np.arange(S2)[None, :] < (2 * s_len + 1)[:, None]   # (N, S2)
        alpha = np.full((T, N, S2), _NEG)
        alpha[0, :, 0] = emit[0, :, 0]
        alpha[0, :, 1] = np.where(s_len > 0, emit[0, :, 1], _NEG) if S2 > 1 else alpha[0, :, 0]
        a1 = np.full((N, S2), _NEG)
        a2 = np.full((N, S2), _NEG)
        emit_v = np.where(valid, emit, _NEG)                       # invalid cells never gain mass
        skip_add = np.where(skip, 0.0, _NEG)[:, 2:]               # -inf where s-2 -> s is not allowed
        for t in range(1, T):
            a = alpha[t - 1]
            a1[:, 1:] = a[:, :-1]
            np.add(a[:, :-2], skip_add, out=a2[:, 2:])
            alpha[t] = _lse(a, a1, a2) + emit_v[t]
        last = in_len - 1
        end_b = alpha[last, np.arange(N), 2 * s_len]
        end_l = np.where(s_len > 0, alpha[last, np.arange(N), np.maximum(2 * s_len - 1, 0)], _NEG)
        nll = -_lse(end_b, end_l, np.full(N, _NEG))
        self.saved = (lp64, ext, skip, in_len, s_len, valid, alpha, emit, nll)
        self.zero_infinity, self.blank, self.dtype = zero_infinity, blank, lp.dtype
        out = nll.copy()
        if zero_infinity:
            out[np.isinf(out)] = 0.0
        return out.astype(lp.dtype)

    def backward(self, g):
        lp64, ext, skip, in_len, s_len, valid, alpha, emit, nll = self.saved
        T, N, S2 = alpha.shape
        C = lp64.shape[2]
        beta = np.full((T, N, S2), _NEG)
        ar = np.arange(N)
        skip_add = np.where(skip, 0.0, _NEG)[:, 2:]    # s -> s+2 allowed where skip[s+2]
        emit_v = np.where(valid, emit, _NEG)
        starts = {}
        for n, L in enumerate(in_len):
            starts.setdefault(int(L) - 1, []).append(n)
        b1 = np.full((N, S2), _NEG)
        b2 = np.full((N, S2), _NEG)
        end_b, end_l = 2 * s_len, np.maximum(2 * s_len - 1, 0)
        has = s_len > 0
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                b = beta[t + 1]
                b1[:, :-1] = b[:, 1:]
                np.add(b[:, 2:], skip_add, out=b2[:, :-2])
                beta[t] = _lse(b, b1, b2) + emit_v[t]
            if t in starts:                            # the last frame of these items: start there
                start = np.array(starts[t])
                beta[t, start] = _NEG
                beta[t, start, end_b[start]] = emit[t, start, end_b[start]]
                st = start[has[start]]
                beta[t, st, end_l[st]] = emit[t, st, end_l[st]]
        beta[np.arange(T)[:, None] >= in_len[None, :]] = _NEG     # frames past each input
        finite = np.isfinite(nll)
        nll_safe = np.where(finite, nll, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            occ = np.exp(alpha + beta - emit + nll_safe[None, :, None])      # (T, N, S2)
        occ[~np.isfinite(occ)] = 0.0
        onehot = (ext[:, :, None] == np.arange(C)).astype(np.float64)     # (N, S2, C)
        post = np.matmul(occ.transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # (T, N, C)
        grad = np.exp(lp64) - post
        tmask = np.arange(T)[:, None] < in_len[None, :]                     # frames past the input: 0
        grad *= tmask[:, :, None]
        if self.zero_infinity:
            grad[:, ~finite, :] = 0.0
        else:
            grad[:, ~finite, :] = np.nan
        g = np.broadcast_to(np.asarray(g, np.float64), (N,))
        return (grad * g[None, :, None]).astype(self.dtype)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """torch.nn.functional.ctc_loss; see the module docstring."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"ctc_loss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    lp = log_probs
    if not isinstance(lp, Tensor):
        raise TypeError(f"ctc_loss: log_probs must be a Tensor, got {type(lp).__name__}")
    unbatched = lp.dim() == 2
    if unbatched:
        lp = lp.unsqueeze(1)
    if lp.dim() != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) (or (T, C) unbatched), got shape "
                         f"{tuple(log_probs.shape)}; a batch-first (N, T, C) tensor needs .transpose(0, 1)")
    if lp.dtype.kind != "f":
        raise TypeError(f"ctc_loss: log_probs must be floating (log_softmax output), got {lp.dtype}")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank={blank} is not a class index of log_probs with C={C} classes")
    in_len = _as_int_array(input_lengths, "input_lengths")
    s_len = _as_int_array(target_lengths, "target_lengths")
    tg = _as_int_array(targets, "targets")
    if in_len.shape != (N,) or s_len.shape != (N,):
        raise ValueError(f"ctc_loss: input_lengths and target_lengths need one entry per batch item "
                         f"(N={N}); got {in_len.shape[0]} and {s_len.shape[0]}")
    if (in_len > T).any() or (in_len < 1).any():
        n = int(np.argmax((in_len > T) | (in_len < 1)))
        raise ValueError(f"ctc_loss: input_lengths[{n}]={in_len[n]} must be in 1..T={T} "
                         f"(log_probs has shape {tuple(lp.shape)})")
    if (s_len < 0).any():
        raise ValueError("ctc_loss: target_lengths must be non-negative")
    if unbatched and tg.ndim == 1 and tg.shape[0] >= s_len[0]:
        tg = tg[None, :]
    if tg.ndim == 2:
        if tg.shape[0] != N:
            raise ValueError(f"ctc_loss: padded targets must be (N={N}, S), got {tuple(tg.shape)}")
        if (s_len > tg.shape[1]).any():
            n = int(np.argmax(s_len > tg.shape[1]))
            raise ValueError(f"ctc_loss: target_lengths[{n}]={s_len[n]} is longer than the padded "
                             f"targets' S={tg.shape[1]}")
        rows = [tg[n, :s_len[n]] for n in range(N)]
    elif tg.ndim == 1:
        if tg.shape[0] != s_len.sum():
            raise ValueError(f"ctc_loss: concatenated targets have {tg.shape[0]} labels but "
                             f"target_lengths sum to {int(s_len.sum())}")
        rows = np.split(tg, np.cumsum(s_len)[:-1])
    else:
        raise ValueError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated, got shape "
                         f"{tuple(tg.shape)}")
    S = int(s_len.max()) if N else 0
    ext = np.full((N, 2 * S + 1), blank, np.int64)
    for n, r in enumerate(rows):
        if len(r) and ((r < 0).any() or (r >= C).any() or (r == blank).any()):
            raise ValueError(f"ctc_loss: targets of item {n} must be class indices in 0..{C - 1} other "
                             f"than blank={blank}; got {r.tolist()}")
        ext[n, 1:2 * len(r):2] = r
    too_long = s_len > in_len
    if too_long.any() and not zero_infinity:
        n = int(np.argmax(too_long))
        raise ValueError(f"ctc_loss: target {n} has {s_len[n]} labels but its input only "
                         f"{in_len[n]} frames (log_probs {tuple(lp.shape)}): CTC emits at most one "
                         "label per frame. Use fewer subsampling steps / more frames, or pass "
                         "zero_infinity=True to give such items a zero loss")
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    loss = CTCLossFn.apply(lp, ext, skip, in_len, s_len, blank, zero_infinity)
    if reduction == "none":
        return loss[0] if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    denom = Tensor._make(np.maximum(s_len, 1).astype(lp.dtype), False, None)
    return (loss / denom).mean()
