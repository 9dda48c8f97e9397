"""Losses as fused Functions: one graph node each, numerically stable.

- cross-entropy = log-softmax + NLL in one node; its backward is
  ``softmax * a_sum - a`` written with a scatter on the target column
  (no one-hot matrix), with class weights, ignore_index and label smoothing;
- class-probability targets (soft labels) in their own node;
- BCE-with-logits in the closed form ``(1-y) x + lw * softplus(-x)``, stable
  for any logit;  BCE clamps its logs at -100 as PyTorch does;
- pointwise regression losses (MSE, L1, Huber, SmoothL1) and KL divergence.

Reductions follow PyTorch: 'mean' of a weighted class loss divides by the
sum of the weights of the non-ignored targets, not by the count.
"""
import warnings

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average=None, reduce=None, reduction="mean"):
    """PyTorch's deprecated (size_average, reduce) pair mapped to a reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _tensor(x, op, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, int, float)):
        return Tensor._from_data(x)
    raise TypeError(f"{op}: {what} must be a dalam Tensor, got {type(x).__name__}")


def _float_input(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}; convert it "
                           "with .float()")
    return x


def _arr(w, dt):
    """An optional weight (Tensor/array) as an array in dtype ``dt``."""
    if w is None:
        return None
    a = w._data if isinstance(w, Tensor) else np.asarray(w)
    return a.astype(dt, copy=False)


# ================================================================ class-index losses
def _to_rows(a):
    """(N, C, d1, ...) -> (N*d1*..., C); (C,) -> (1, C); (N, C) unchanged."""
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim == 2:
        return a
    return xp.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _from_rows(g, shape):
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(g.reshape(moved), -1, 1)


def _rows_t(z):
    """Tensor version of _to_rows (differentiable)."""
    if z.ndim == 1:
        return z.reshape(1, -1)
    if z.ndim == 2:
        return z
    return z.movedim(1, -1).reshape(-1, z.shape[1])


def _unrows_t(g, shape):
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return g.reshape(moved).movedim(-1, 1)


class ClassNLL(Function):
    """Cross-entropy (``logits=True``: log-softmax fused in) or NLL on
    log-probabilities, against integer class targets."""

    def forward(self, z, t, w, ignore_index, reduction, smoothing, logits):
        self.shape = shape = z.shape
        self.z = z
        z2 = _to_rows(z)
        m, c = z2.shape
        dt = z.dtype
        t1 = t.reshape(-1)
        self.fast, self.logits = False, logits
        if logits and w is None and not smoothing and reduction != "none" and \
                not (t1 == ignore_index).any():
            return self._forward_fast(z2, t1, reduction, m)
        valid = t1 != ignore_index
        tt = xp.where(valid, t1, 0) if ignore_index is not None else t1
        if logits:
            logp = z2 - xp.max(z2, axis=1, keepdims=True)
            logp -= xp.log(xp.sum(xp.exp(logp), axis=1, keepdims=True))
        else:
            logp = z2
        rows = xp.arange(m)
        picked = logp[rows, tt]
        if w is None:
            cw = valid.astype(dt)
        else:
            cw = xp.where(valid, w[tt], dt.type(0)).astype(dt, copy=False)
        loss = -cw * picked
        if smoothing:
            sm = -(logp @ w) if w is not None else -xp.sum(logp, axis=1)
            loss = (1.0 - smoothing) * loss + (smoothing / c) * xp.where(valid, sm, dt.type(0))
        self.reduction = reduction
        self.shape, self.t_shape = shape, t.shape
        self.logp, self.tt, self.cw, self.valid, self.w = logp, tt, cw, valid, w
        self.smoothing, self.logits = smoothing, logits
        if reduction == "none":
            return loss.reshape(t.shape)
        total = xp.sum(loss)
        if reduction == "sum":
            return xp.asarray(total, dt)
        self.denom = den = xp.sum(cw)
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / den, dt)

    def _forward_fast(self, z2, t1, reduction, m):
        """The common case (no weights, smoothing or ignored targets): keep
        exp(z - max) and its row sums; backward is one scale and a scatter."""
        sh = z2 - z2.max(axis=1, keepdims=True)
        e = xp.exp(sh)
        se = e.sum(axis=1, keepdims=True)
        self.rows = rows = xp.arange(m)
        total = xp.log(se).sum() - sh[rows, t1].sum()
        self.fast, self.e, self.se, self.t1, self.m = True, e, se, t1, m
        self.reduction = reduction
        return xp.asarray(total if reduction == "sum" else total / m, z2.dtype)

    def backward_graph(self, gy):
        """The gradient written with Tensor ops, for create_graph=True
        (double backward: gradient penalties, MAML)."""
        z = self.input_tensor(0, self.z)
        if isinstance(z, np.ndarray):
            z = Tensor._make(z, False, None)
        zr = _rows_t(z)
        m, c = zr.shape
        dt = self.z.dtype
        a = xp.zeros((m, c), dt)
        if self.fast:
            a[self.rows, self.t1] = 1
            s = gy if self.reduction == "sum" else gy / self.m
        else:
            a[xp.arange(m), self.tt] = (1.0 - self.smoothing) * self.cw
            if self.smoothing:
                wv = self.w[None, :] if self.w is not None else dt.type(1)
                a += (self.smoothing / c) * wv * self.valid[:, None]
            if self.reduction == "none":
                s = gy.reshape(-1, 1)
            elif self.reduction == "sum":
                s = gy
            else:
                s = gy / Tensor._make(xp.asarray(self.denom, dt), False, None)
        ac = Tensor._make(a, False, None)
        if self.logits:
            asum = Tensor._make(a.sum(axis=1, keepdims=True), False, None)
            g = (zr.softmax(1) * asum - ac) * s
        else:
            g = -ac * s
        return _unrows_t(g, self.shape), None, None

    def backward(self, gy):
        if self.fast:
            sc = gy if self.reduction == "sum" else gy / self.m
            g = self.e * (sc / self.se)
            g[self.rows, self.t1] -= sc
            return _from_rows(g, self.shape), None, None
        logp, tt, cw, valid, w = self.logp, self.tt, self.cw, self.valid, self.w
        m, c = logp.shape
        dt = logp.dtype
        if self.reduction == "none":
            s = gy.reshape(-1)
        elif self.reduction == "sum":
            s = xp.broadcast_to(gy, (m,))
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                s = xp.broadcast_to(gy / self.denom, (m,))
        eps = self.smoothing
        rows = xp.arange(m)
        hit = (1.0 - eps) * cw * s  # weight on the target column
        if self.logits:
            a_sum = (1.0 - eps) * cw
            if eps:
                wsum = xp.sum(w) if w is not None else dt.type(c)
                a_sum = a_sum + (eps / c) * wsum * valid
            g = xp.exp(logp)
            g *= (a_sum * s)[:, None]
        else:
            g = xp.zeros((m, c), dt)
        g[rows, tt] -= hit
        if eps:
            sv = (s * valid).astype(dt, copy=False)[:, None]
            g -= (eps / c) * (w[None, :] * sv if w is not None else sv)
        return _from_rows(g.astype(dt, copy=False), self.shape), None, None


class SoftTargetCE(Function):
    """Cross-entropy against class probabilities (soft labels), optionally
    smoothed; differentiable in both the logits and the target."""

    def forward(self, z, y, w, reduction, smoothing):
        shape = z.shape
        z2 = _to_rows(z)
        y2 = _to_rows(y)
        m, c = z2.shape
        logp = z2 - xp.max(z2, axis=1, keepdims=True)
        logp -= xp.log(xp.sum(xp.exp(logp), axis=1, keepdims=True))
        a = y2 * (1.0 - smoothing) + smoothing / c if smoothing else y2
        if w is not None:
            a = a * w
        loss = -xp.sum(a * logp, axis=1)
        self.shape, self.logp, self.a, self.w = shape, logp, a, w
        self.reduction, self.smoothing, self.m = reduction, smoothing, m
        if reduction == "none":
            return loss.reshape(shape[:1] + shape[2:] if len(shape) > 1 else ())
        total = xp.sum(loss)
        return xp.asarray(total if reduction == "sum" else total / m, z.dtype)

    def backward(self, gy):
        logp, a, w = self.logp, self.a, self.w
        m = self.m
        if self.reduction == "none":
            s = gy.reshape(-1, 1)
        elif self.reduction == "sum":
            s = gy
        else:
            s = gy / m
        gz = gy_y = None
        if self.needs_input_grad[0]:
            gz = (xp.exp(logp) * xp.sum(a, axis=1, keepdims=True) - a) * s
            gz = _from_rows(gz.astype(logp.dtype, copy=False), self.shape)
        if self.needs_input_grad[1]:
            gy_y = -(1.0 - self.smoothing) * logp * s
            if w is not None:
                gy_y = gy_y * w
            gy_y = _from_rows(gy_y.astype(logp.dtype, copy=False), self.shape)
        return gz, gy_y, None


def _class_target_checks(input, target, weight, ignore_index, op):
    """Validate shapes, dtype and class range; returns the target array."""
    shp = tuple(input.shape)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension (shape (C,), (N, C) or "
                         f"(N, C, d1, ...)), got a scalar")
    c = shp[0] if input.ndim == 1 else shp[1]
    want = () if input.ndim == 1 else (shp[0],) + shp[2:]
    t = target._data
    if tuple(t.shape) != want:
        raise ValueError(
            f"{op}: expected target of shape {want} (class indices for input of shape {shp}), "
            f"got {tuple(t.shape)}. For class probabilities pass a float target of shape {shp}.")
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "b":
            raise RuntimeError(f"{op}: target must hold integer class indices, got bool; use "
                               "target.long()")
        raise RuntimeError(f"{op}: expected target to hold class indices as an integer (int64) "
                           f"tensor, got {t.dtype}; use target.long() (or give class "
                           f"probabilities with the input's shape {shp}).")
    if t.size:
        valid = t != ignore_index
        bad = valid & ((t < 0) | (t >= c))
        if bad.any():
            pos = tuple(int(i) for i in np.argwhere(bad)[0])
            raise IndexError(
                f"{op}: target class index {int(t[pos] if t.ndim else t)} at position {pos} is "
                f"out of range for {c} classes (valid: 0..{c - 1}, or ignore_index="
                f"{ignore_index}); {int(bad.sum())} target(s) out of range. Check the labels "
                "or the model's number of outputs.")
    if weight is not None and tuple(np.shape(weight._data if isinstance(weight, Tensor) else
                                             weight)) != (c,):
        raise RuntimeError(f"{op}: weight must be a 1-D tensor of size {c} (one per class), got "
                           f"shape {tuple(np.shape(weight._data if isinstance(weight, Tensor) else weight))}")
    return t, c


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C[, d...]) against class indices
    (N[, d...]) or class probabilities (same shape as input)."""
    op = "cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _float_input(_tensor(input, op, "input"), op)
    target = _tensor(target, op, "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    dt = input._data.dtype
    if target._data.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        c = input.shape[0] if input.ndim == 1 else input.shape[1]
        if weight is not None and tuple(np.shape(_arr(weight, dt))) != (c,):
            raise RuntimeError(f"{op}: weight must be a 1-D tensor of size {c}, got shape "
                               f"{tuple(np.shape(_arr(weight, dt)))}")
        if target._data.dtype != dt:
            target = target.to(dt)
        return SoftTargetCE.apply(input, target, _arr(weight, dt), reduction=reduction,
                                  smoothing=float(label_smoothing))
    t, _ = _class_target_checks(input, target, weight, ignore_index, op)
    return ClassNLL.apply(input, t, _arr(weight, dt), ignore_index=ignore_index,
                          reduction=reduction, smoothing=float(label_smoothing), logits=True)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (e.g. from
    log_softmax) at the target classes."""
    op = "nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _float_input(_tensor(input, op, "input"), op)
    target = _tensor(target, op, "target")
    t, _ = _class_target_checks(input, target, weight, ignore_index, op)
    return ClassNLL.apply(input, t, _arr(weight, input._data.dtype), ignore_index=ignore_index,
                          reduction=reduction, smoothing=0.0, logits=False)


# ================================================================ pointwise losses
class _Pointwise(Function):
    """Elementwise loss l(x, y) then a reduction; subclasses give ``loss``
    and ``grads`` (dl/dx, dl/dy) on arrays."""

    def forward(self, x, y, reduction, **params):
        self.x, self.y, self.params, self.reduction = x, y, params, reduction
        l = self.loss(x, y, **params)
        self.n = l.size
        self.lshape = l.shape
        if reduction == "none":
            return l
        total = xp.sum(l)
        if reduction == "sum":
            return xp.asarray(total, l.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / l.size, l.dtype)

    def backward(self, gy):
        if self.reduction == "mean":
            gy = gy / self.n
        gx, gt = self.grads(self.x, self.y, gy, self.needs_input_grad, **self.params)
        return gx, gt


    def backward_graph(self, gy):
        """Gradients as Tensor ops (create_graph=True)."""
        x = self.input_tensor(0, self.x)
        y = self.input_tensor(1, self.y)
        x = x if isinstance(x, Tensor) else Tensor._make(x, False, None)
        y = y if isinstance(y, Tensor) else Tensor._make(y, False, None)
        g = gy / self.n if self.reduction == "mean" else gy
        gd = self.dgrad(x - y, **self.params) * g
        return gd, -gd


class MSE(_Pointwise):
    def loss(self, x, y):
        d = x - y
        return d * d

    def dgrad(self, d):
        return 2 * d

    def grads(self, x, y, g, need):
        gd = 2 * (x - y) * g
        return gd, (-gd if need[1] else None)


class L1(_Pointwise):
    def loss(self, x, y):
        return xp.abs(x - y)

    def dgrad(self, d):
        return Tensor._make(xp.sign(d._data), False, None)

    def grads(self, x, y, g, need):
        gd = xp.sign(x - y) * g
        return gd, (-gd if need[1] else None)


class Huber(_Pointwise):
    def loss(self, x, y, delta):
        d = x - y
        a = xp.abs(d)
        return xp.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(d.dtype,
                                                                                   copy=False)

    def dgrad(self, d, delta):
        return d.clamp(-delta, delta)

    def grads(self, x, y, g, need, delta):
        gd = xp.clip(x - y, -delta, delta) * g
        return gd, (-gd if need[1] else None)


class SmoothL1(_Pointwise):
    def loss(self, x, y, beta):
        d = x - y
        a = xp.abs(d)
        if beta == 0:
            return a
        return xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).astype(d.dtype, copy=False)

    def dgrad(self, d, beta):
        if beta == 0:
            return Tensor._make(xp.sign(d._data), False, None)
        return (d / beta).clamp(-1, 1)

    def grads(self, x, y, g, need, beta):
        d = x - y
        gd = (xp.sign(d) if beta == 0 else xp.clip(d / beta, -1, 1)) * g
        return gd, (-gd if need[1] else None)


def _pointwise_target(input, target, op):
    input = _float_input(_tensor(input, op, "input"), op)
    target = _tensor(target, op, "target")
    if tuple(target.shape) != tuple(input.shape):
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"{op}: target shape {tuple(target.shape)} cannot be broadcast to "
                             f"input shape {tuple(input.shape)}; they should be the same size.")
        warnings.warn(f"{op}: using a target size ({tuple(target.shape)}) that is different to "
                      f"the input size ({tuple(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", stacklevel=3)
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "mse_loss")
    x, y = _pointwise_target(input, target, "mse_loss")
    return MSE.apply(x, y, reduction=reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    x, y = _pointwise_target(input, target, "l1_loss")
    return L1.apply(x, y, reduction=reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pointwise_target(input, target, "huber_loss")
    return Huber.apply(x, y, reduction=reduction, delta=float(delta))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, y = _pointwise_target(input, target, "smooth_l1_loss")
    return SmoothL1.apply(x, y, reduction=reduction, beta=float(beta))


# ================================================================ binary cross-entropy
class _Weighted(Function):
    """Elementwise loss with an optional weight array, then a reduction."""

    def _reduce(self, l, reduction):
        self.reduction, self.n, self.lshape = reduction, l.size, l.shape
        if reduction == "none":
            return l
        total = xp.sum(l)
        if reduction == "sum":
            return xp.asarray(total, l.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / l.size, l.dtype)

    def _scale(self, gy, w):
        if self.reduction == "mean":
            gy = gy / self.n
        return gy if w is None else gy * w


class BCE(_Weighted):
    def forward(self, x, y, w, reduction):
        with np.errstate(divide="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        l = -(y * lx + (1 - y) * l1x)
        if w is not None:
            l = l * w
        self.x, self.y, self.w, self.lx, self.l1x = x, y, w, lx, l1x
        return self._reduce(l.astype(x.dtype, copy=False), reduction)

    def backward(self, gy):
        x, y = self.x, self.y
        s = self._scale(gy, self.w)
        gx = s * (x - y) / xp.maximum((1 - x) * x, x.dtype.type(1e-12))
        gt = None
        if self.needs_input_grad[1]:  # unclamped logs, as PyTorch (inf at x = 0 or 1)
            with np.errstate(divide="ignore"):
                gt = s * (xp.log1p(-x) - xp.log(x))
        return gx, gt, None


class BCEWithLogits(_Weighted):
    """l = (1 - y) x + lw * softplus(-x), lw = 1 + (pos_weight - 1) y; softplus
    in the stable form max(-x, 0) + log1p(exp(-|x|))."""

    def forward(self, x, y, w, pw, reduction):
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus(-x)
        if pw is not None:
            lw = (pw - 1) * y + 1
            l = (1 - y) * x + lw * sp
        else:
            lw = None
            l = (1 - y) * x + sp
        if w is not None:
            l = l * w
        self.x, self.y, self.w, self.pw, self.lw, self.sp = x, y, w, pw, lw, sp
        return self._reduce(l.astype(x.dtype, copy=False), reduction)

    def backward(self, gy):
        x, y, lw = self.x, self.y, self.lw
        s = self._scale(gy, self.w)
        e = xp.exp(-xp.abs(x))
        sig_neg = xp.where(x >= 0, e / (1 + e), 1 / (1 + e))  # sigmoid(-x), no overflow
        if lw is None:
            gx = s * ((1 - y) - sig_neg)
        else:
            gx = s * ((1 - y) - lw * sig_neg)
        gt = None
        if self.needs_input_grad[1]:
            gt = s * (-x if self.pw is None else (self.pw - 1) * self.sp - x)
        return gx.astype(x.dtype, copy=False), gt, None, None


def _bce_logits_graph(self, gy):
    """BCEWithLogits gradients as Tensor ops (create_graph=True)."""
    from .activation import sigmoid, softplus
    x = self.input_tensor(0, self.x)
    y = self.input_tensor(1, self.y)
    x = x if isinstance(x, Tensor) else Tensor._make(x, False, None)
    y = y if isinstance(y, Tensor) else Tensor._make(y, False, None)
    s = gy / self.n if self.reduction == "mean" else gy
    if self.w is not None:
        s = s * Tensor._make(self.w, False, None)
    pw = None if self.pw is None else Tensor._make(self.pw, False, None)
    lw = 1 if pw is None else (pw - 1) * y + 1
    gx = s * ((1 - y) - lw * sigmoid(-x))
    gt = s * (-x if pw is None else (pw - 1) * softplus(-x) - x)
    return gx, gt, None, None


BCEWithLogits.backward_graph = _bce_logits_graph


def _binary_checks(input, target, op, same_shape_msg):
    input = _float_input(_tensor(input, op, "input"), op)
    target = _tensor(target, op, "target")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(same_shape_msg.format(t=tuple(target.shape), i=tuple(input.shape)))
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return input, target


def _bcast_weight(w, shape, op, what):
    if w is None:
        return None
    try:
        np.broadcast_shapes(np.shape(w), shape)
    except ValueError:
        raise RuntimeError(f"{op}: {what} of shape {tuple(np.shape(w))} cannot be broadcast to "
                           f"the input shape {tuple(shape)}")
    return w


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """BCE on probabilities in [0, 1] (apply sigmoid first; prefer
    binary_cross_entropy_with_logits, which is stable)."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x, y = _binary_checks(input, target, op,
                          op + ": using a target size {t} that is different to the input size "
                          "{i} is not supported; please ensure they have the same size.")
    d = x._data
    if d.size and (not (d.min() >= 0) or not (d.max() <= 1)):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (got min "
                           f"{float(np.nanmin(d)) if not np.isnan(d).all() else 'nan'}, max "
                           f"{float(np.nanmax(d)) if not np.isnan(d).all() else 'nan'}); apply "
                           "sigmoid first, or use binary_cross_entropy_with_logits on the logits.")
    w = _bcast_weight(_arr(weight, d.dtype), d.shape, op, "weight")
    return BCE.apply(x, y, w, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + BCE in one stable expression; ``pos_weight`` (one per class,
    broadcast over the last dim) up-weights positive examples."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    x, y = _binary_checks(input, target, op,
                          op + ": target size {t} must be the same as input size {i}")
    dt = x._data.dtype
    w = _bcast_weight(_arr(weight, dt), x.shape, op, "weight")
    pw = _bcast_weight(_arr(pos_weight, dt), x.shape, op, "pos_weight")
    return BCEWithLogits.apply(x, y, w, pw, reduction=reduction)


# ================================================================ KL divergence
class KLDiv(Function):
    """Pointwise y (log y - x) (or exp(y) (y - x) with log_target), x = log q."""

    def forward(self, x, y, reduction, log_target):
        if log_target:
            ey = xp.exp(y)
            l = ey * (y - x)
        else:
            ey = None
            with np.errstate(divide="ignore", invalid="ignore"):
                self.ly = ly = xp.log(y)
                l = xp.where(y == 0, y.dtype.type(0), y * ly) - y * x  # xlogy(y, y) - y x
        self.x, self.y, self.ey, self.log_target = x, y, ey, log_target
        self.reduction, self.n, self.batch = reduction, l.size, (x.shape[0] if x.ndim else 1)
        if reduction == "none":
            return l.astype(x.dtype, copy=False)
        total = xp.sum(l)
        if reduction == "sum":
            return xp.asarray(total, x.dtype)
        div = self.n if reduction == "mean" else self.batch
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(total / div, x.dtype)

    def backward(self, gy):
        if self.reduction == "mean":
            gy = gy / self.n
        elif self.reduction == "batchmean":
            gy = gy / self.batch
        x, y = self.x, self.y
        if self.log_target:
            gx = -self.ey * gy
            gt = self.ey * (y - x + 1) * gy if self.needs_input_grad[1] else None
        else:
            gx = -y * gy
            if self.needs_input_grad[1]:
                with np.errstate(invalid="ignore"):
                    gt = (xp.where(y > 0, self.ly + 1, y.dtype.type(0)) - x) * gy
            else:
                gt = None
        return gx, gt


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || input) pointwise, ``input`` being log-probabilities."""
    op = "kl_div"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op, ("batchmean",))
    x, y = _pointwise_target(input, target, op)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size. 'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.", stacklevel=2)
    return KLDiv.apply(x, y, reduction=reduction, log_target=bool(log_target))


# ================================================================ composite losses
# Less common losses, written with differentiable ops (autograd derives them).
def _reduce(l, reduction, op):
    _check_reduction(reduction, op)
    if reduction == "none":
        return l
    return l.sum() if reduction == "sum" else l.mean()


def _same(input, target, op):
    input = _float_input(_tensor(input, op, "input"), op)
    target = _tensor(target, op, "target")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return input, target


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)) for labels y in {-1, 1}."""
    from .activation import softplus
    x, y = _same(input, target, "soft_margin_loss")
    return _reduce(softplus(-y * x), legacy_reduction(size_average, reduce, reduction),
                   "soft_margin_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin): y = 1 means x1 should rank higher."""
    from .activation import relu
    x1, y = _same(input1, target, "margin_ranking_loss")
    return _reduce(relu(-y * (x1 - input2) + margin),
                   legacy_reduction(size_average, reduce, reduction), "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1."""
    from .activation import relu
    from .index import where
    x, y = _same(input, target, "hinge_embedding_loss")
    zero = x * 0
    l = where(y != 1, relu(margin - x), zero) + where(y != -1, x, zero)
    return _reduce(l, legacy_reduction(size_average, reduce, reduction), "hinge_embedding_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    from .activation import relu
    from .index import where
    op = "cosine_embedding_loss"
    x1 = _float_input(_tensor(input1, op, "input1"), op)
    y = _tensor(target, op, "target")
    eps = 1e-12
    dim = x1.ndim - 1
    prod = (x1 * input2).sum(dim)
    mag = ((x1 * x1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod / mag.sqrt()
    zero = cos * 0
    l = where(y == 1, 1 - cos, zero) + where(y == -1, relu(cos - margin), zero)
    return _reduce(l, legacy_reduction(size_average, reduce, reduction), op)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-distance."""
    from .activation import relu, minimum
    from .distance import pairwise_distance
    dp = pairwise_distance(anchor, positive, p, eps)
    dn = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dn = minimum(dn, pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(dp - dn + margin), legacy_reduction(size_average, reduce, reduction),
                   "triplet_margin_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood; ``log_input`` means input = log(rate)."""
    from .index import where
    x, y = _same(input, target, "poisson_nll_loss")
    l = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        safe = where(y > 1, y, y * 0 + 1)
        stirling = safe * safe.log() - safe + 0.5 * (2 * np.pi * safe).log()
        l = l + where(y > 1, stirling, y * 0)
    return _reduce(l, legacy_reduction(size_average, reduce, reduction), "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (x - y)^2 / var); var is clamped to eps without
    blocking its gradient, as PyTorch."""
    op = "gaussian_nll_loss"
    x, y = _same(input, target, op)
    var = _tensor(var, op, "var")
    if var.shape != x.shape and tuple(var.shape) == tuple(x.shape[:-1]):
        var = var.unsqueeze(-1)  # one variance per sample
    elif var.shape != x.shape and not (tuple(var.shape[:-1]) == tuple(x.shape[:-1])
                                       and var.shape[-1] == 1):
        raise ValueError(f"{op}: var of shape {tuple(var.shape)} does not match input of shape "
                         f"{tuple(x.shape)} (same shape, last dim 1, or one dim fewer expected)")
    if (var._data < 0).any():
        raise ValueError(f"{op}: var has negative entry/entries")
    shift = np.maximum(var._data, eps) - var._data  # clamp as an additive constant: grad passes
    v = var + Tensor._make(shift.astype(var._data.dtype), False, None)
    l = 0.5 * (v.log() + (x - y) ** 2 / v)
    if full:
        l = l + 0.5 * float(np.log(2 * np.pi))
    return _reduce(l, reduction, op)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class logistic loss averaged over classes (multi-label classification)."""
    from .activation import softplus
    op = "multilabel_soft_margin_loss"
    x, y = _same(input, target, op)
    l = y * softplus(-x) + (1 - y) * softplus(x)  # -(y log s(x) + (1-y) log s(-x))
    if weight is not None:
        l = l * _tensor(weight, op, "weight")
    l = l.mean(x.ndim - 1)
    return _reduce(l, legacy_reduction(size_average, reduce, reduction), op)
