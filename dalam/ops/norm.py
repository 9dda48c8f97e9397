"""Normalisation: batch_norm, layer_norm, group_norm, each one fused op.

Forward keeps ``xhat`` and ``1/std``; backward is the closed form
``dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`` with the
means over the normalised axes, so each norm is one graph node instead of a
dozen elementwise ones.
"""
import numpy as np

from ..backend import xp
from ..autograd.function import Function


def _bshape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _chan_last(a):
    """Channels-last view of an (N, C, *) array whose channel axis is the
    innermost in memory (the NHWC-strided outputs of the convolutions, also
    cropped ones): (N*H*W, C) when that reshape needs no copy, else (N, H, W,
    C); None for other layouts.  Reductions over its leading axes run in
    memory order."""
    t = xp.moveaxis(a, 1, -1) if a.ndim > 2 else a
    if t.strides[-1] != t.itemsize and t.shape[-1] > 1:
        return None
    return t.reshape(-1, a.shape[1]) if t.flags.c_contiguous else t


def _from_chan_last(a2, shape):
    """The (N, C, *) view of a C-contiguous channels-last array."""
    if len(shape) == 2:
        return a2
    return xp.moveaxis(a2.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _lead(a):
    return tuple(range(a.ndim - 1))


def _dot_lead(a, b):
    """Per channel sum of a*b over the leading axes, without an a*b temporary."""
    lead = "abcdefghijklmnop"[:a.ndim - 1]
    return xp.einsum(f"{lead}z,{lead}z->z", a, b)


class BatchNormFn(Function):
    """x (N, C, *); statistics per channel over N and the spatial axes.

    Training mode on channels-last memory (what the convolutions return) works
    on the (N*H*W, C) view: contiguous axis-0 reductions and the affine step
    fused into one output buffer."""
    saves = (0,)  # eval-mode backward re-reads x (PyTorch saves it too)

    def forward(self, x, w=None, b=None, training=True, running_mean=None, running_var=None,
                momentum=0.1, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        bs = _bshape(x)
        self.axes, self.bs, self.training = axes, bs, training
        self.x, self.eps = x, eps  # (a reference) for double backward
        dt = x.dtype.type
        self.x2 = x2 = _chan_last(x) if training else None
        if training:
            m = x.size // x.shape[1]
            if m <= 1:
                raise ValueError(
                    f"batch_norm: expected more than 1 value per channel when training, got input "
                    f"of shape {tuple(x.shape)}; use a larger batch or call model.eval()")
        if x2 is not None:
            mean = x2.mean(axis=_lead(x2))
            y2 = xp.subtract(x2, mean)  # x - mean (C-contiguous), then reused for the output
            var = _dot_lead(y2, y2) / dt(m)
            invstd = 1 / xp.sqrt(var + dt(eps))
            scale = invstd if w is None else w * invstd
            shift = -mean * scale if b is None else b - mean * scale
            xp.multiply(x2, scale, out=y2)
            y2 += shift
            self.mean, self.invstd, self.w = mean, invstd, w
            y = _from_chan_last(y2, x.shape)
        elif training:
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            var = xp.mean(xc * xc, axis=axes, keepdims=True)
            invstd = 1 / xp.sqrt(var + dt(eps))
            xhat = xc * invstd
            self.xhat, self.invstd, self.w = xhat, invstd, w
            y = xhat if w is None else xhat * w.reshape(bs)
            if b is not None:
                y = y + b.reshape(bs)
        else:
            invstd = 1 / xp.sqrt(running_var + dt(eps))
            scale = invstd if w is None else w * invstd
            shift = -running_mean * scale
            y = x * scale.reshape(bs) + shift.reshape(bs)
            self.x, self.rm = x, running_mean
            self.invstd, self.w = invstd.reshape(bs), w
            if b is not None:
                y = y + b.reshape(bs)
        if training and running_mean is not None:
            mom = dt(momentum)
            running_mean *= 1 - mom
            running_mean += mom * mean.reshape(-1)
            running_var *= 1 - mom
            running_var += (mom * m / (m - 1)) * var.reshape(-1).astype(running_var.dtype)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        need = self.needs_input_grad
        if self.x2 is not None:
            g2 = _chan_last(gy)
            if g2 is None:  # gy in another memory order: copy it channels-last
                g2 = xp.ascontiguousarray(xp.moveaxis(gy, 1, -1) if gy.ndim > 2 else gy)
            if g2.shape != self.x2.shape:
                g2 = g2.reshape(self.x2.shape)
            return self._backward_chan_last(g2, gy.shape, need)
        axes, bs, w, invstd = self.axes, self.bs, self.w, self.invstd
        if self.training:
            xhat = self.xhat
        else:
            xhat = (self.x - self.rm.reshape(bs)) * invstd
        gw = gb = gx = None
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=axes)
        if len(need) > 1 and need[1]:
            gw = (gy * xhat).sum(axis=axes)
        if need[0]:
            gxh = gy if w is None else gy * w.reshape(bs)
            if self.training:
                m1 = gxh.mean(axis=axes, keepdims=True)
                m2 = (gxh * xhat).mean(axis=axes, keepdims=True)
                gx = (gxh - m1 - xhat * m2) * invstd
            else:
                gx = gxh * invstd
        return (gx, gw, gb)[:len(need)]

    def _backward_chan_last(self, g2, shape, need):
        """Training backward on (M, C) views: with a = w/std, sb = sum(gy) and
        sw = sum(gy*xhat), dx = a*(gy - xhat*sw/M - sb/M), all in one buffer
        (each fresh large array costs page faults; xhat is not kept from the
        forward for the same reason)."""
        w, invstd = self.w, self.invstd
        M = g2.size // g2.shape[-1]
        sb = g2.sum(axis=_lead(g2))
        t = xp.subtract(self.x2, self.mean)  # xhat, recomputed as the forward had it
        t *= invstd
        sw = _dot_lead(g2, t)
        gx = None
        if need[0]:
            a = invstd if w is None else w * invstd
            t *= -sw / M
            t += g2
            t -= sb / M
            t *= a
            gx = _from_chan_last(t, shape)
        gw = sw if len(need) > 1 and need[1] else None
        gb = sb if len(need) > 2 and need[2] else None
        return (gx, gw, gb)[:len(need)]


def _norm_last(x2, eps):
    """Normalise the last axis of 2-D ``x2``: returns xhat, invstd (column)."""
    mean = x2.mean(axis=-1, keepdims=True)
    xc = x2 - mean
    var = xp.mean(xc * xc, axis=-1, keepdims=True)
    invstd = 1 / xp.sqrt(var + x2.dtype.type(eps))
    return xc * invstd, invstd


def _norm_last_backward(gxh, xhat, invstd):
    m1 = gxh.mean(axis=-1, keepdims=True)
    m2 = (gxh * xhat).mean(axis=-1, keepdims=True)
    return (gxh - m1 - xhat * m2) * invstd


class LayerNormFn(Function):
    """Normalise over the trailing ``len(w.shape)`` (or ``nd``) axes."""
    saves = ()

    def forward(self, x, w=None, b=None, nd=1, eps=1e-5):
        feat = int(np.prod(x.shape[x.ndim - nd:]))
        self.x, self.eps = x, eps  # (a reference) for double backward
        xhat, invstd = _norm_last(x.reshape(-1, feat), eps)
        xhat = xhat.reshape(x.shape)
        self.xhat, self.invstd, self.w, self.nd, self.feat = xhat, invstd, w, nd, feat
        y = xhat if w is None else xhat * w
        if b is not None:
            y = y + b
        return y

    def backward(self, gy):
        need = self.needs_input_grad
        xhat, w, nd = self.xhat, self.w, self.nd
        lead = tuple(range(gy.ndim - nd))
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=lead)
        if len(need) > 1 and need[1]:
            gw = (gy * xhat).sum(axis=lead)
        if need[0]:
            gxh = gy if w is None else gy * w
            gx = _norm_last_backward(gxh.reshape(-1, self.feat), xhat.reshape(-1, self.feat),
                                     self.invstd).reshape(gy.shape)
        return (gx, gw, gb)[:len(need)]


class GroupNormFn(Function):
    """x (N, C, *): statistics per sample and group of C/G channels."""
    saves = ()

    def forward(self, x, w=None, b=None, groups=1, eps=1e-5):
        N = x.shape[0]
        xhat, invstd = _norm_last(x.reshape(N * groups, -1), eps)
        self.x, self.eps = x, eps  # (a reference) for double backward
        xhat = xhat.reshape(x.shape)
        bs = _bshape(x)
        self.xhat, self.invstd, self.w, self.bs, self.G = xhat, invstd, w, bs, groups
        y = xhat if w is None else xhat * w.reshape(bs)
        if b is not None:
            y = y + b.reshape(bs)
        return y

    def backward(self, gy):
        need = self.needs_input_grad
        xhat, w, bs = self.xhat, self.w, self.bs
        axes = (0,) + tuple(range(2, gy.ndim))
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=axes)
        if len(need) > 1 and need[1]:
            gw = (gy * xhat).sum(axis=axes)
        if need[0]:
            gxh = gy if w is None else gy * w.reshape(bs)
            n = gy.shape[0] * self.G
            gx = _norm_last_backward(gxh.reshape(n, -1), xhat.reshape(n, -1),
                                     self.invstd).reshape(gy.shape)
        return (gx, gw, gb)[:len(need)]


# ----------------------------------------------------------------- functional
def _args(x, w, b):
    args = [x]
    if w is not None or b is not None:
        args.append(w)
    if b is not None:
        args.append(b)
    return args


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """``F.batch_norm``: in training, normalise with batch statistics and update
    the running buffers in place (unbiased variance, as PyTorch)."""
    if input.ndim < 2:
        raise RuntimeError(f"batch_norm: expected at least 2-D input (N, C, ...), got shape "
                           f"{tuple(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"batch_norm: {name} should have shape ({C},) for an input with {C} "
                               f"channels (shape {tuple(input.shape)}), got {tuple(t.shape)}")
    if input.shape[0] == 0:  # an empty batch: an empty result, running statistics untouched (as PyTorch)
        from ._util import empty_result
        return empty_result(tuple(input.shape), input.dtype, input, weight, bias)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var are needed when training=False")
    rm = running_mean._data if running_mean is not None else None
    rv = running_var._data if running_var is not None else None
    out = BatchNormFn.apply(*_args(input, weight, bias), training=training, running_mean=rm,
                            running_var=rv, momentum=momentum, eps=eps)
    if training and rm is not None:
        running_mean._vc[0] += 1
        running_var._vc[0] += 1
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(ns):]) != ns:
        raise RuntimeError(
            f"layer_norm: input's trailing dimensions {tuple(input.shape[input.ndim - len(ns):])} "
            f"must equal normalized_shape {ns} (input shape {tuple(input.shape)})")
    return LayerNormFn.apply(*_args(input, weight, bias), nd=len(ns), eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(
            f"group_norm: expected input (N, C, ...) with C divisible by num_groups={num_groups}, "
            f"got shape {tuple(input.shape)}")
    if input.numel() == 0:
        from ._util import empty_result
        return empty_result(tuple(input.shape), input.dtype, input, weight, bias)
    return GroupNormFn.apply(*_args(input, weight, bias), groups=num_groups, eps=eps)


from . import norm_double as _norm_double  # noqa: E402,F401  (backward_graph: double backward)
