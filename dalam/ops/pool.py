"""Pooling: max/avg pool 1d/2d, adaptive avg/max pool 2d.

Windows are read as KH*KW strided slices of the (padded) input, one per kernel
offset, never by Python loops over pixels: max pooling is a running maximum
(and argmax) over those slices, average pooling their sum, and both backwards
are one strided write per offset (a plain assignment when windows do not
overlap, e.g. 2x2/stride 2).  The slices keep the input's memory order, so
pooling a conv output (channel-last memory) stays on contiguous data; measured
3-4x faster than copying windows into an (..., KH*KW) array and reducing it.  Adaptive average pooling is two small matrix
products (bins as an averaging matrix per axis), so its backward is exact and
loop-free for any input/output size.
"""
import numpy as np

from ..backend import xp
from ..autograd.function import Function
from ..autograd import grad_mode
from ..tensor import Tensor
from .conv import _tuple


def _out_len(L, k, s, p, d, ceil, op):
    num = L + 2 * p - d * (k - 1) - 1
    if num < 0:
        raise RuntimeError(
            f"{op}: kernel size {k} (dilation {d}) is larger than the padded input "
            f"({L} + 2*{p} = {L + 2 * p}); use a smaller kernel or a larger input")
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= L + p:
        o -= 1
    return o


def _alloc_like(x, shape, fill=None):
    """A new NCHW array of ``shape`` in the same memory order as ``x``: channel-last
    when ``x`` is (a view of) NHWC memory, as conv outputs are, so the elementwise
    work of pooling and its backward runs on contiguous memory."""
    nhwc = x.ndim == 4 and x.transpose(0, 2, 3, 1).flags.c_contiguous and not x.flags.c_contiguous
    if nhwc:
        n, c, h, w = shape
        a = xp.empty((n, h, w, c), x.dtype) if fill is None else xp.full((n, h, w, c), fill, x.dtype)
        return a.transpose(0, 3, 1, 2)
    return xp.empty(shape, x.dtype) if fill is None else xp.full(shape, fill, x.dtype)


def _pad_to(x, p, out, k, s, d, fill):
    """Pad NCHW ``x`` by ``p`` on the left/top and enough on the right/bottom for
    ``out`` windows (ceil_mode may need more than ``p``)."""
    N, C, H, W = x.shape
    need = [(o - 1) * si + di * (ki - 1) + 1 for o, si, di, ki in zip(out, s, d, k)]
    hi = [max(0, nd - n - pi) for nd, n, pi in zip(need, (H, W), p)]
    if not (p[0] or p[1] or hi[0] or hi[1]):
        return x
    xpad = _alloc_like(x, (N, C, H + p[0] + hi[0], W + p[1] + hi[1]), fill)
    xpad[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    return xpad


def _offsets(k, s, d, out):
    """(kh, kw, slice) for every kernel offset: the strided slice of the padded
    input that holds that offset of every window."""
    he, we = s[0] * (out[0] - 1) + 1, s[1] * (out[1] - 1) + 1
    for kh in range(k[0]):
        for kw in range(k[1]):
            h0, w0 = kh * d[0], kw * d[1]
            yield kh, kw, (slice(None), slice(None), slice(h0, h0 + he, s[0]),
                           slice(w0, w0 + we, s[1]))


def _scatter_windows(g_per_k, like, shape, k, s, d, out, p):
    """Sum per-offset window gradients ``g_per_k(kh, kw)`` (N, C, OH, OW) back
    into an (N, C, H, W) gradient: one strided add per kernel offset."""
    N, C, H, W = shape
    Hp = max((out[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1, H + p[0])
    Wp = max((out[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1, W + p[1])
    disjoint = all(ki * di <= si for ki, si, di in zip(k, s, d))
    # windows that tile the array exactly write every element: no zero-fill needed
    covers = k == s and d == (1, 1) and Hp == out[0] * k[0] and Wp == out[1] * k[1]
    gx = _alloc_like(like, (N, C, Hp, Wp), None if covers else 0)
    for kh, kw, sl in _offsets(k, s, d, out):
        g = g_per_k(kh, kw, sl)
        if disjoint:
            gx[sl] = g
        else:
            gx[sl] += g
    return gx[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


def _is_nhwc(a):
    return a.transpose(0, 2, 3, 1).flags.c_contiguous


def _max_tiled_backward(x, y, gy, k):
    """Max-pool backward when the windows tile ``x`` (kernel == stride, no padding
    or dilation, e.g. 2x2/stride 2): per offset, one compare of the strided slice
    against ``y``, minus the windows an earlier offset already claimed (first
    maximum wins ties, as PyTorch), multiplied straight into that slice of an
    uninitialised gradient laid out like ``x``.  ``gy`` is first copied into
    ``x``'s memory order when it differs (a quarter-size copy), so every pass runs
    on one layout.  2x2 on channel-last memory does the compare as one pass over
    an (N, OH, 2, OW, 2, C) view.  On W2's two NHWC conv outputs: 13.6 -> ~6 ms
    against the general ``_scatter_windows`` path (docs/RESULTS.md, CNN)."""
    N, C, H, W = x.shape
    OH, OW = y.shape[2:]
    gx = _alloc_like(x, x.shape)
    if H != k[0] * OH:
        gx[:, :, k[0] * OH:] = 0
    if W != k[1] * OW:
        gx[:, :, :, k[1] * OW:] = 0
    if gy.strides != y.strides:
        g = _alloc_like(y, gy.shape)
        g[...] = gy
        gy = g
    if k == (2, 2) and H == 2 * OH and W == 2 * OW and _is_nhwc(x) and _is_nhwc(y) and _is_nhwc(gx):
        # one compare pass over x's channel-last memory as (N, OH, 2, OW, 2, C)
        x6 = x.transpose(0, 2, 3, 1).reshape(N, OH, 2, OW, 2, C)
        g6 = gx.transpose(0, 2, 3, 1).reshape(N, OH, 2, OW, 2, C)
        eq = x6 == y.transpose(0, 2, 3, 1)[:, :, None, :, None, :]
        a, b, c, d = eq[:, :, 0, :, 0], eq[:, :, 0, :, 1], eq[:, :, 1, :, 0], eq[:, :, 1, :, 1]
        taken = a.copy()
        b &= ~taken
        taken |= b
        c &= ~taken
        taken |= c
        d &= ~taken
        xp.multiply(gy.transpose(0, 2, 3, 1)[:, :, None, :, None, :], eq, out=g6)
        return gx
    taken = None
    last = (k[0] - 1, k[1] - 1)
    for kh in range(k[0]):
        for kw in range(k[1]):
            sl = (slice(None), slice(None), slice(kh, k[0] * OH, k[0]), slice(kw, k[1] * OW, k[1]))
            m = x[sl] == y
            if taken is None:
                taken = m.copy() if (kh, kw) != last else None
            else:
                m &= ~taken
                if (kh, kw) != last:
                    taken |= m
            xp.multiply(gy, m, out=gx[sl])
    return gx


class MaxPool2dFn(Function):
    """Max over windows as a running ``maximum`` across the KH*KW offset slices:
    no window copy, and the arrays keep the input's memory order.  Backward
    finds each window's first maximum again (``slice == y``, first offset
    wins ties, as PyTorch), which measured faster than tracking an argmax array
    in forward; the argmax is only built when ``return_indices`` asks for it."""
    saves = (0,)  # backward re-reads the input

    def forward(self, x, k, s, p, d, out, want_idx=False):
        N, C, H, W = x.shape
        xpad = _pad_to(x, p, out, k, s, d, -xp.inf)
        y = None
        for _, _, sl in _offsets(k, s, d, out):
            if y is None:
                y = xp.copy(xpad[sl], order="K")  # keep x's memory order (NHWC conv outputs)
            else:
                xp.maximum(y, xpad[sl], out=y)
        self.xpad, self.y, self.geom = xpad, y, (x.shape, k, s, p, d, out)
        if not want_idx:
            return y
        # flat indices into each input plane, as PyTorch's return_indices
        am = xp.full(y.shape, k[0] * k[1] - 1, xp.int64)
        for kh, kw, sl in reversed(list(_offsets(k, s, d, out))):
            am = xp.where(xpad[sl] == y, kh * k[1] + kw, am)
        kh, kw = xp.divmod(am, k[1])
        rows = xp.arange(out[0])[:, None] * s[0] - p[0] + kh * d[0]
        cols = xp.arange(out[1]) * s[1] - p[1] + kw * d[1]
        return y, rows * W + cols

    def backward(self, gy, gi=None):
        shape, k, s, p, d, out = self.geom
        xpad, y = self.xpad, self.y
        if k == s and d == (1, 1) and xpad.shape == shape:
            return _max_tiled_backward(xpad, y, gy, k)
        claimed = [None]

        def grad_at(kh, kw, sl):
            m = xpad[sl] == y
            if claimed[0] is None:
                claimed[0] = m.copy()
            else:
                m &= ~claimed[0]
                claimed[0] |= m
            return gy * m
        return _scatter_windows(grad_at, xpad, shape, k, s, d, out, p)


class AvgPool2dFn(Function):
    saves = ()

    def forward(self, x, k, s, p, out, div):
        xpad = _pad_to(x, p, out, k, s, (1, 1), 0)
        y = None
        for _, _, sl in _offsets(k, s, (1, 1), out):
            if y is None:
                y = xpad[sl].copy()
            else:
                y += xpad[sl]
        y = y / div if isinstance(div, np.ndarray) else y * x.dtype.type(1.0 / div)
        self.div, self.geom = div, (x.shape, k, s, p, out)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        shape, k, s, p, out = self.geom
        div = self.div
        g = (gy / div if isinstance(div, np.ndarray) else gy * gy.dtype.type(1.0 / div))
        g = g.astype(gy.dtype, copy=False)
        return _scatter_windows(lambda a, b, c: g, g, shape, k, s, (1, 1), out, p)


def _avg_divisor(L, k, s, p, o, include_pad):
    """Per-output window sizes along one axis, as PyTorch counts them."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, L + p)
    size = end - start
    if not include_pad:
        size = np.minimum(end, L) - np.maximum(start, 0)
    return size


def _prep2d(input, nsp, op):
    want = nsp + 2
    if input.ndim not in (want - 1, want):
        raise RuntimeError(
            f"{op}: expected a {want}-D input (N, C, {'L' if nsp == 1 else 'H, W'}) or "
            f"{want - 1}-D unbatched, got {input.ndim}-D input of shape {tuple(input.shape)}")
    unb = input.ndim == want - 1
    x = input.unsqueeze(0) if unb else input
    if nsp == 1:
        x = x.unsqueeze(2)
    return x, unb


def _post2d(y, unb, nsp):
    if nsp == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unb else y


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nsp, op):
    x, unb = _prep2d(input, nsp, op)
    k = _tuple(kernel_size, nsp, "kernel_size", op)
    s = _tuple(stride if stride not in (None, ()) else kernel_size, nsp, "stride", op)
    p = _tuple(padding, nsp, "padding", op)
    d = _tuple(dilation, nsp, "dilation", op)
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise RuntimeError(f"{op}: padding {p} should be at most half of the kernel size {k}")
    if nsp == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    out = tuple(_out_len(n, ki, si, pi, di, ceil_mode, op)
                for n, ki, si, pi, di in zip(x.shape[2:], k, s, p, d))
    if not return_indices and not (grad_mode.state.enabled and x.requires_grad):
        # inference: max over the window view, no argmax bookkeeping
        a = _pad_to(x._data, p, out, k, s, d, -xp.inf)
        y = None
        for _, _, sl in _offsets(k, s, d, out):
            if y is None:
                y = xp.copy(a[sl], order="K")
            else:
                xp.maximum(y, a[sl], out=y)
        return _post2d(Tensor._make(y, False, None), unb, nsp)
    if return_indices:
        y, idx = MaxPool2dFn.apply(x, k=k, s=s, p=p, d=d, out=out, want_idx=True)
        return _post2d(y, unb, nsp), _post2d(idx, unb, nsp)
    return _post2d(MaxPool2dFn.apply(x, k=k, s=s, p=p, d=d, out=out), unb, nsp)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``F.max_pool2d``; indices (if asked) are flat positions in each input plane."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                     "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                     "max_pool1d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              nsp, op):
    x, unb = _prep2d(input, nsp, op)
    k = _tuple(kernel_size, nsp, "kernel_size", op)
    s = _tuple(stride if stride not in (None, ()) else kernel_size, nsp, "stride", op)
    p = _tuple(padding, nsp, "padding", op)
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise RuntimeError(f"{op}: padding {p} should be at most half of the kernel size {k}")
    if nsp == 1:
        k, s, p = (1,) + k, (1,) + s, (0,) + p
    H, W = x.shape[2:]
    out = tuple(_out_len(n, ki, si, pi, 1, ceil_mode, op)
                for n, ki, si, pi in zip((H, W), k, s, p))
    if divisor_override:
        div = float(divisor_override)
    else:
        dh = _avg_divisor(H, k[0], s[0], p[0], out[0], count_include_pad)
        dw = _avg_divisor(W, k[1], s[1], p[1], out[1], count_include_pad)
        if (dh == k[0]).all() and (dw == k[1]).all():
            div = float(k[0] * k[1])
        else:
            div = (dh[:, None] * dw[None, :]).astype(x.dtype)
    y = AvgPool2dFn.apply(x, k=k, s=s, p=p, out=out, div=div)
    return _post2d(y, unb, nsp)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


# ----------------------------------------------------------------- adaptive
def _bins(L, o):
    start = (np.arange(o) * L) // o
    end = -((-(np.arange(o) + 1) * L) // o)
    return start, end


def _avg_matrix(L, o, dtype):
    start, end = _bins(L, o)
    j = np.arange(L)
    m = (j >= start[:, None]) & (j < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


class AdaptiveAvg2dFn(Function):
    """y = Ah @ x @ Aw^T with per-axis averaging matrices."""
    saves = ()

    def forward(self, x, ah, aw):
        self.ah, self.aw = ah, aw
        return xp.matmul(xp.matmul(ah, x), aw.T)

    def backward(self, gy):
        return xp.matmul(xp.matmul(self.ah.T, gy), self.aw)


def _out_size(output_size, shape, op):
    o = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(o) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size}")
    return tuple(int(shape[i]) if v is None else int(v) for i, v in enumerate(o))


def adaptive_avg_pool2d(input, output_size):
    """``F.adaptive_avg_pool2d``: PyTorch's bins start=floor(i*L/o), end=ceil((i+1)*L/o)."""
    x, unb = _prep2d(input, 2, "adaptive_avg_pool2d")
    H, W = x.shape[2:]
    oh, ow = _out_size(output_size, (H, W), "adaptive_avg_pool2d")
    if H % oh == 0 and W % ow == 0:
        kh, kw = H // oh, W // ow
        y = avg_pool2d(x, (kh, kw), (kh, kw))
    else:
        y = AdaptiveAvg2dFn.apply(x, ah=_avg_matrix(H, oh, x.dtype), aw=_avg_matrix(W, ow, x.dtype))
    return _post2d(y, unb, 2)


class AdaptiveMax2dFn(Function):
    saves = ()

    def forward(self, x, ih, iw):
        N, C, H, W = x.shape
        g = x[:, :, ih[:, :, None, None], iw[None, None, :, :]]  # N,C,OH,kh,OW,kw
        OH, kh = ih.shape
        OW, kw = iw.shape
        win = g.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, OH, OW, kh * kw)
        am = win.argmax(axis=-1)
        y = xp.take_along_axis(win, am[..., None], axis=-1)[..., 0]
        a, b = xp.divmod(am, kw)
        idx = ih[xp.arange(OH)[:, None], a] * W + iw[xp.arange(OW), b]
        self.idx, self.shape = idx, x.shape
        return y, idx

    def backward(self, gy, gi=None):
        N, C, H, W = self.shape
        flat = (self.idx.reshape(N * C, -1) + (xp.arange(N * C) * (H * W))[:, None]).ravel()
        gx = xp.bincount(flat, weights=gy.reshape(-1), minlength=N * C * H * W)
        return gx.astype(gy.dtype).reshape(N, C, H, W)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    x, unb = _prep2d(input, 2, "adaptive_max_pool2d")
    H, W = x.shape[2:]
    oh, ow = _out_size(output_size, (H, W), "adaptive_max_pool2d")
    if H % oh == 0 and W % ow == 0 and not return_indices:
        y = max_pool2d(x, (H // oh, W // ow))
        return _post2d(y, unb, 2)

    def index(L, o):
        start, end = _bins(L, o)
        k = int((end - start).max())
        return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)
    y, idx = AdaptiveMax2dFn.apply(x, ih=index(H, oh), iw=index(W, ow))
    y = _post2d(y, unb, 2)
    return (y, _post2d(idx, unb, 2)) if return_indices else y


def adaptive_avg_pool1d(input, output_size):
    o = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    x = input.unsqueeze(-2)
    return adaptive_avg_pool2d(x, (1, o)).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    o = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


from . import pool_double as _pool_double  # noqa: E402,F401  (backward_graph: double backward)
