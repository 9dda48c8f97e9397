"""Convolutions: conv1d, conv2d, conv_transpose1d/2d, by im2col and one GEMM.

Layout: internally channel-last (NHWC).  The padded input is written once in
NHWC order, a strided view (``as_strided``) exposes every KHxKW window, one
copy turns it into the column matrix ``(N*OH*OW, KH*KW*C)`` and one GEMM with
the reshaped weight gives ``(N*OH*OW, O)``, which *is* the NHWC output; we hand
it back as an NCHW view (no copy), and the next conv's NHWC transpose of it is
free.  Measured against an NCHW column layout this is faster (see
docs/RESULTS.md, CNN section), because the GEMM output needs no transpose.

Backward: ``dW = cols^T @ dY`` (one GEMM).  ``dX`` is either im2col of the
padded ``dY`` and one GEMM with the flipped kernel (stride 1, C/groups > 32), or
per-offset GEMMs ``dY @ W_k^T`` summed by the phased col2im: KH*KW adds over
contiguous rows of a per-stride-phase buffer, then one interleaving copy (no
per-pixel or per-sample Python loops).  A strided one-group ConvTranspose's
forward uses the same.

Groups are a batch dimension of the GEMM: columns are built as
``(G, N*OH*OW, KH*KW*Cg)`` straight from the strided view.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backend import xp
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import dtype_fix


# ----------------------------------------------------------------- helpers
# the smallest value each window argument may take (PyTorch's rules)
_LEAST = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


def _tuple(v, n, what, op):
    if type(v) is tuple and len(v) == n and all(type(a) is int for a in v):
        if min(v, default=1) >= _LEAST.get(what, 0):
            return v  # already normalised (the layers store tuples): skip the work per call
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v),)
    try:
        v = tuple(v)
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in v):
            raise TypeError
        v = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(v) == 1:
        v = v * n
    if len(v) != n:
        raise ValueError(f"{op}: {what} must be an int or a tuple of {n} ints, got {v}")
    least = _LEAST.get(what, 0)
    if min(v, default=least) < least:
        rule = "positive (>= 1)" if least else "non-negative"
        raise ValueError(f"{op}: {what} must be {rule}, got {v if n > 1 else v[0]}")
    return v


def _im2col(xpad, G, KH, KW, OH, OW, s, d):
    """Columns ``(G, N*OH*OW, KH*KW*Cg)`` from a C-contiguous NHWC array."""
    N, Hp, Wp, C = xpad.shape
    if C == 1:
        # one channel (e.g. grayscale input): the channel-last copy would move single
        # floats; ordering the window view (KH, KW, N, OH, OW) keeps rows of OW pixels
        # innermost, and one copy of it is ~1.8x faster than KH*KW slice copies at
        # batch 128. Its transpose is a column-major matrix the GEMM takes as is.
        sN, sH, sW, _ = xpad.strides
        view = as_strided(xpad, shape=(KH, KW, N, OH, OW),
                          strides=(sH * d[0], sW * d[1], sN, sH * s[0], sW * s[1]), writeable=False)
        return view.reshape(1, KH * KW, N * OH * OW).transpose(0, 2, 1)
    Cg = C // G
    sN, sH, sW, sC = xpad.strides
    view = as_strided(xpad, shape=(G, N, OH, OW, KH, KW, Cg),
                      strides=(Cg * sC, sN, sH * s[0], sW * s[1], sH * d[0], sW * d[1], sC),
                      writeable=False)
    return view.reshape(G, N * OH * OW, KH * KW * Cg)


def _col2im(cols, shape, G, KH, KW, OH, OW, s, d):
    """Adjoint of ``_im2col``: sum columns back into an NHWC array of ``shape``
    with one strided add per kernel offset."""
    N, Hp, Wp, C = shape
    Cg = C // G
    out = xp.zeros((N, Hp, Wp, G, Cg), cols.dtype)
    c = cols.reshape(G, N, OH, OW, KH, KW, Cg)
    he, we = s[0] * (OH - 1) + 1, s[1] * (OW - 1) + 1
    for kh in range(KH):
        h0 = kh * d[0]
        for kw in range(KW):
            w0 = kw * d[1]
            dst = out[:, h0:h0 + he:s[0], w0:w0 + we:s[1]]
            if G == 1:
                dst[..., 0, :] += c[0, :, :, :, kh, kw]
            else:
                dst += c[:, :, :, :, kh, kw].transpose(1, 2, 3, 0, 4)
    return out.reshape(N, Hp, Wp, C)


def _col2im_phased(ck, shape, KH, KW, OH, OW, s, d):
    """col2im for one group from per-offset blocks ``ck`` = (KH*KW, N*OH*OW, C)
    (or (KH*KW, N*OH*OW) when C == 1); any stride (stride 1 is one phase).

    Output pixel ``h = s*oh + d*kh`` lies in phase ``(d*kh) % s`` at row
    ``oh + (d*kh) // s`` of that phase, so each offset's block is added to a
    *contiguous* slab of a ``(s0, s1, N, Hq, Wq, C)`` phase buffer (inner runs of
    OW*C floats instead of C), and one transpose copy interleaves the phases.
    Measured 0.7 ms (3.7 -> 3.0) and 1.3 ms (12.9 -> 11.6) faster than
    ``GEMM + _col2im`` on the DCGAN discriminator/generator stride-2 shapes."""
    N, Hp, Wp, C = shape
    s0, s1 = s
    Hq, Wq = -(-Hp // s0), -(-Wp // s1)
    ph = xp.zeros((s0, s1, N, Hq, Wq, C), ck.dtype)
    c = ck.reshape(KH, KW, N, OH, OW, C)
    for kh in range(KH):
        q, a = divmod(kh * d[0], s0)
        for kw in range(KW):
            r, b = divmod(kw * d[1], s1)
            ph[a, b, :, q:q + OH, r:r + OW] += c[kh, kw]
    out = ph.transpose(2, 3, 0, 4, 1, 5).reshape(N, Hq * s0, Wq * s1, C)
    return out[:, :Hp, :Wp]


def _gemm_per_offset(a, wk):
    """``a @ wk[k]`` for every kernel offset k: a (P, K), wk (KK, K, C) -> (KK, P, C).
    With C == 1 one GEMM ``wk[:, :, 0] @ a^T`` gives the same layout."""
    if wk.shape[2] == 1:
        return wk[:, :, 0] @ a.T
    return xp.matmul(a[None], wk)


def _gemm(a, b):
    """Batched over groups; a plain 2-D GEMM when there is one group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return xp.matmul(a, b)


def _nhwc_padded(x, pads):
    """NHWC copy of NCHW ``x`` with zero padding ``pads`` = (top, bottom, left, right)."""
    N, C, H, W = x.shape
    t, b, l, r = pads
    xn = x.transpose(0, 2, 3, 1)
    if not (t or b or l or r):
        return xp.ascontiguousarray(xn)
    out = xp.zeros((N, H + t + b, W + l + r, C), x.dtype)
    out[:, t:t + H, l:l + W] = xn
    return out


# ----------------------------------------------------------------- conv
class ConvNd(Function):
    """conv1d/conv2d on arrays: x (N, C, [H,] W), w (O, C/G, [KH,] KW)."""
    saves = None

    def forward(self, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        self.x, self.w = x, w  # kept (references) for double backward
        one_d = x.ndim == 3
        if one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        N, C, H, W = x.shape
        O, Cg, KH, KW = w.shape
        G = groups
        Og = O // G
        t, bt, l, r = pads
        Hp, Wp = H + t + bt, W + l + r
        OH = (Hp - dilation[0] * (KH - 1) - 1) // stride[0] + 1
        OW = (Wp - dilation[1] * (KW - 1) - 1) // stride[1] + 1
        xpad = _nhwc_padded(x, pads)
        cols = _im2col(xpad, G, KH, KW, OH, OW, stride, dilation)
        del xpad
        wm = w.reshape(G, Og, Cg, KH, KW).transpose(0, 3, 4, 2, 1).reshape(G, KH * KW * Cg, Og)
        y = _gemm(cols, wm)  # (G, NP, Og)
        y = y[0] if G == 1 else y.transpose(1, 0, 2).reshape(N * OH * OW, O)
        if b is not None:
            y += b
        self.cols, self.wm = cols, wm
        self.geom = (one_d, x.shape, w.shape, (OH, OW), stride, pads, dilation, G)
        y = y.reshape(N, OH, OW, O).transpose(0, 3, 1, 2)
        return y[:, :, 0, :] if one_d else y

    def backward(self, gy):
        one_d, (N, C, H, W), (O, Cg, KH, KW), (OH, OW), s, pads, d, G = self.geom
        need = self.needs_input_grad
        if one_d:
            gy = gy[:, :, None, :]
        Og = O // G
        gyn = gy.transpose(0, 2, 3, 1).reshape(N * OH * OW, O)
        gg = gyn[None] if G == 1 else gyn.reshape(-1, G, Og).transpose(1, 0, 2)
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gyn.sum(axis=0)
        if need[1]:
            gwm = _gemm(self.cols.transpose(0, 2, 1), gg)  # (G, KK*Cg, Og)
            gw = gwm.reshape(G, KH, KW, Cg, Og).transpose(0, 4, 3, 1, 2).reshape(O, Cg, KH, KW)
            if one_d:
                gw = gw[:, :, 0, :]
        if need[0]:
            t, bt, l, r = pads
            # stride 1: dX is a full convolution of dY with the flipped kernel, done
            # as im2col + GEMM (measured ~1.7x faster than GEMM + col2im here) when
            # Cg > 32; with fewer input channels that GEMM's output is too narrow, and
            # per-offset GEMMs + the phased col2im measured faster (W2 conv2, Cg=32:
            # 14-15 vs 21-22 ms; 64x32x32 -> 64: 42 vs 55 ms; Cg=64: 94 vs 77-83 ms)
            fp = ((KH - 1) * d[0] - t, (KH - 1) * d[0] - bt, (KW - 1) * d[1] - l,
                  (KW - 1) * d[1] - r)
            if s == (1, 1) and min(fp) >= 0 and not (G == 1 and Cg <= 32):
                gpad = xp.zeros((N, OH + fp[0] + fp[1], OW + fp[2] + fp[3], O), gy.dtype)
                gpad[:, fp[0]:fp[0] + OH, fp[2]:fp[2] + OW] = gyn.reshape(N, OH, OW, O)
                gc = _im2col(gpad, G, KH, KW, H, W, s, d)  # (G, NHW, KK*Og)
                del gpad
                wf = self.wm.reshape(G, KH, KW, Cg, Og)[:, ::-1, ::-1].transpose(0, 1, 2, 4, 3)
                gxg = _gemm(gc, wf.reshape(G, KH * KW * Og, Cg))  # (G, NHW, Cg)
                gxn = gxg[0] if G == 1 else gxg.transpose(1, 0, 2).reshape(N * H * W, C)
                gx = gxn.reshape(N, H, W, C).transpose(0, 3, 1, 2)
            elif G == 1:
                # per-offset GEMM blocks summed by the phased col2im
                wk = self.wm[0].reshape(KH * KW, Cg, Og).transpose(0, 2, 1)  # (KK, O, Cg)
                gxp = _col2im_phased(_gemm_per_offset(gyn, wk), (N, H + t + bt, W + l + r, C),
                                     KH, KW, OH, OW, s, d)
                gx = gxp[:, t:t + H, l:l + W].transpose(0, 3, 1, 2)
            else:
                gcols = _gemm(gg, self.wm.transpose(0, 2, 1))  # (G, NP, KK*Cg)
                gxp = _col2im(gcols, (N, H + t + bt, W + l + r, C), G, KH, KW, OH, OW, s, d)
                gx = gxp[:, t:t + H, l:l + W].transpose(0, 3, 1, 2)
            if one_d:
                gx = gx[:, :, 0, :]
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


class ConvTransposeNd(Function):
    """conv_transpose1d/2d on arrays: x (N, Cin, [H,] W), w (Cin, Cout/G, [KH,] KW).

    Forward is conv's input-gradient (GEMM then col2im), backward is conv's
    forward (im2col then GEMM)."""
    saves = None

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                dilation=(1, 1), groups=1):
        self.x, self.w = x, w  # kept (references) for double backward
        one_d = x.ndim == 3
        if one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        N, Ci, H, W = x.shape
        _, Cog, KH, KW = w.shape
        G = groups
        Cig = Ci // G
        Co = Cog * G
        s, p, op_, d = stride, padding, output_padding, dilation
        Hf = (H - 1) * s[0] + d[0] * (KH - 1) + 1 + op_[0]
        Wf = (W - 1) * s[1] + d[1] * (KW - 1) + 1 + op_[1]
        OH, OW = Hf - 2 * p[0], Wf - 2 * p[1]
        xn = x.transpose(0, 2, 3, 1).reshape(N * H * W, Ci)
        xg = xn[None] if G == 1 else xn.reshape(-1, G, Cig).transpose(1, 0, 2)
        wm = w.reshape(G, Cig, Cog, KH, KW).transpose(0, 1, 3, 4, 2).reshape(G, Cig, KH * KW * Cog)
        if G == 1 and s != (1, 1):
            wk = wm[0].reshape(Cig, KH * KW, Cog).transpose(1, 0, 2)  # (KK, Cig, Cog)
            yf = _col2im_phased(_gemm_per_offset(xg[0], wk), (N, Hf, Wf, Co), KH, KW, H, W, s, d)
        else:
            cols = _gemm(xg, wm)  # (G, NHW, KK*Cog)
            yf = _col2im(cols, (N, Hf, Wf, Co), G, KH, KW, H, W, s, d)
        y = yf[:, p[0]:p[0] + OH, p[1]:p[1] + OW]
        if b is not None:
            y += b
        self.xg, self.wm = xg, wm
        self.geom = (one_d, x.shape, w.shape, (Hf, Wf), (OH, OW), s, p, d, G)
        y = y.transpose(0, 3, 1, 2)
        return y[:, :, 0, :] if one_d else y

    def backward(self, gy):
        one_d, (N, Ci, H, W), (_, Cog, KH, KW), (Hf, Wf), (OH, OW), s, p, d, G = self.geom
        need = self.needs_input_grad
        if one_d:
            gy = gy[:, :, None, :]
        Co = Cog * G
        Cig = Ci // G
        gx = gw = gb = None
        if len(need) > 2 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        gf = xp.zeros((N, Hf, Wf, Co), gy.dtype)
        gf[:, p[0]:p[0] + OH, p[1]:p[1] + OW] = gy.transpose(0, 2, 3, 1)
        gcols = _im2col(gf, G, KH, KW, H, W, s, d)  # (G, NHW, KK*Cog)
        del gf
        if need[1]:
            gwm = _gemm(self.xg.transpose(0, 2, 1), gcols)  # (G, Cig, KK*Cog)
            gw = gwm.reshape(G, Cig, KH, KW, Cog).transpose(0, 1, 4, 2, 3).reshape(Ci, Cog, KH, KW)
            if one_d:
                gw = gw[:, :, 0, :]
        if need[0]:
            gxg = _gemm(gcols, self.wm.transpose(0, 2, 1))  # (G, NHW, Cig)
            gxn = gxg[0] if G == 1 else gxg.transpose(1, 0, 2).reshape(N * H * W, Ci)
            gx = gxn.reshape(N, H, W, Ci).transpose(0, 3, 1, 2)
            if one_d:
                gx = gx[:, :, 0, :]
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


# ----------------------------------------------------------------- checks
def _check_conv_input(x, w, b, nsp, groups, op, transposed=False):
    """Shape/dtype checks with messages naming the op and the expected shape."""
    want = "(N, C, L)" if nsp == 1 else "(N, C, H, W)"
    if w.ndim != nsp + 2:
        raise RuntimeError(f"{op}: weight must be {nsp + 2}-D, got shape {tuple(w.shape)}")
    cin = w.shape[0] if transposed else w.shape[1] * groups
    if x.ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(
            f"{op}: expected a {nsp + 2}-D input {want} (or {nsp + 1}-D unbatched), got "
            f"{x.ndim}-D input of shape {tuple(x.shape)}")
    if x.shape[-nsp - 1] != cin:
        hint = ""
        if x.ndim == nsp + 1:
            hint = (f"; if this is a batch of {x.shape[0]} single-channel inputs, add the channel "
                    "dimension with x.unsqueeze(1)")
        raise RuntimeError(
            f"{op}: expected input with {cin} channels, i.e. shape (N, {cin}, "
            f"{'L' if nsp == 1 else 'H, W'}), but got input of shape {tuple(x.shape)} "
            f"({x.shape[-nsp - 1]} channels){hint}")
    if groups < 1 or (not transposed and w.shape[0] % groups) or cin % groups:
        raise RuntimeError(
            f"{op}: groups={groups} must divide in_channels ({cin}) and out_channels")
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"{op}: input dtype {x.dtype} does not match weight dtype {w.dtype}; "
            f"{dtype_fix(x.dtype, w.dtype)}")
    if b is not None:
        nout = w.shape[1] * groups if transposed else w.shape[0]
        if tuple(b.shape) != (nout,):
            raise RuntimeError(f"{op}: bias must have shape ({nout},), got {tuple(b.shape)}")


def _conv_pads(padding, k, d, s, nsp, op):
    """Per-side pads (lo, hi) per spatial dim from int/tuple/'same'/'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nsp
        if padding == "same":
            if any(si != 1 for si in s):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            out = []
            for ki, di in zip(k, d):
                tot = di * (ki - 1)
                out.append((tot // 2, tot - tot // 2))
            return out
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid'; got {padding!r}")
    p = _tuple(padding, nsp, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {p}")
    return [(v, v) for v in p]


_PLAIN = (int, tuple, str)
_GEOMETRY = {}  # validated call geometry per (shapes, dtypes, options): the checks are
# pure functions of these, and re-running them cost ~1/3 of a batch-1 conv call


def _conv(input, weight, bias, stride, padding, dilation, groups, nsp, op):
    key = geom = None
    if type(stride) in _PLAIN and type(padding) in _PLAIN and type(dilation) in _PLAIN:
        try:
            key = (input.shape, input.dtype, weight.shape, weight.dtype,
                   None if bias is None else bias.shape, stride, padding, dilation, groups, nsp)
            geom = _GEOMETRY.get(key)
        except TypeError:  # e.g. a tuple holding a list: validate every time
            key = None
    if geom is None:
        geom = _conv_geometry(input, weight, bias, stride, padding, dilation, groups, nsp, op)
        if key is not None:
            if len(_GEOMETRY) > 512:
                _GEOMETRY.clear()
            _GEOMETRY[key] = geom
    s, d, pads4, unbatched = geom
    if unbatched:
        input = input.unsqueeze(0)
    args = (input, weight) if bias is None else (input, weight, bias)
    y = ConvNd.apply(*args, stride=s, pads=pads4, dilation=d, groups=groups)
    return y.squeeze(0) if unbatched else y


def _conv_geometry(input, weight, bias, stride, padding, dilation, groups, nsp, op):
    """Check a conv call and return (stride, dilation, 4 pads, unbatched) for ConvNd."""
    _check_conv_input(input, weight, bias, nsp, groups, op)
    s = _tuple(stride, nsp, "stride", op)
    d = _tuple(dilation, nsp, "dilation", op)
    if any(v < 1 for v in s) or any(v < 1 for v in d):
        raise ValueError(f"{op}: stride and dilation must be positive, got stride={s}, dilation={d}")
    k = tuple(weight.shape[2:])
    pads = _conv_pads(padding, k, d, s, nsp, op)
    unbatched = input.ndim == nsp + 1
    sp = input.shape[-nsp:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(sp, pads))
    eff = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    if any(e > pn for e, pn in zip(eff, padded)):
        raise RuntimeError(
            f"{op}: kernel size {k} (dilated: {eff}) is larger than the padded input {padded} "
            f"(input {tuple(sp)}, padding {tuple(pads)}); use a smaller kernel, more padding or a "
            "larger input")
    if nsp == 1:
        s, d, pads4 = (1,) + s, (1,) + d, (0, 0) + pads[0]
    else:
        pads4 = pads[0] + pads[1]
    return s, d, pads4, unbatched


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, _op="conv2d"):
    """``F.conv2d``: NCHW input, weight (O, C/groups, KH, KW); padding may be
    an int, a pair, 'same' or 'valid'."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, _op)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, _op="conv1d"):
    """``F.conv1d``: (N, C, L) input, weight (O, C/groups, K)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, _op)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nsp, op):
    _check_conv_input(input, weight, bias, nsp, groups, op, transposed=True)
    s = _tuple(stride, nsp, "stride", op)
    p = _tuple(padding, nsp, "padding", op)
    opd = _tuple(output_padding, nsp, "output_padding", op)
    d = _tuple(dilation, nsp, "dilation", op)
    for oi, si, di in zip(opd, s, d):
        if oi >= max(si, di):
            raise ValueError(
                f"{op}: output_padding {opd} must be smaller than either stride {s} or dilation {d}")
    unbatched = input.ndim == nsp + 1
    if unbatched:
        input = input.unsqueeze(0)
    k = weight.shape[2:]
    out = tuple((n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                for n, si, pi, di, ki, oi in zip(input.shape[2:], s, p, d, k, opd))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{op}: output size {out} is not positive (input {tuple(input.shape)}, "
                           f"padding {p} too large)")
    if nsp == 1:
        s, p, opd, d = (1,) + s, (0,) + p, (0,) + opd, (1,) + d
    args = (input, weight) if bias is None else (input, weight, bias)
    y = ConvTransposeNd.apply(*args, stride=s, padding=p, output_padding=opd, dilation=d,
                              groups=groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, _op="conv_transpose2d"):
    """``F.conv_transpose2d``: weight (C_in, C_out/groups, KH, KW), the gradient of conv2d."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           2, _op)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, _op="conv_transpose1d"):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           1, _op)


from . import conv_double as _conv_double  # noqa: E402,F401  (backward_graph: double backward)
