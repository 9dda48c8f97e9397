"""Fused recurrent layers: RNN (tanh/relu), LSTM and GRU over a whole sequence.

Why fused: an LSTM over 64 steps written with autograd ops is ~1,000 tiny
graph nodes; here a layer is ONE Function.  Its forward does one GEMM for all
timesteps' input projections (``x @ W_ih^T`` for T*B rows at once), then one
GEMM per step for the recurrent part of all gates, with the gate maths done in
place on preallocated arrays.  Its backward through time is written by hand:
per step only elementwise maths and one GEMM (``dgates @ W_hh``); the weight
gradients are one big GEMM each after the loop.

Layout: ``x`` is time-major (T, B, I); weights use PyTorch's layout and gate
order (LSTM i, f, g, o; GRU r, z, n with ``b_hn`` inside ``r * (W_hn h + b_hn)``).

Sigmoid is computed as ``tanh(x/2)/2 + 1/2`` (no overflow, one tanh call for
all gates): the 1/2 pre-scale is folded into the weights (exact in floating
point), so every step runs one ``tanh`` over the whole gate block.

``mask`` (T, B) bool, from a ``lengths`` vector: where it is False a sequence
has ended, its state is carried unchanged and its output is zero (what
``pad_packed_sequence`` gives).  ``reverse=True`` runs from the last step to
the first; with a mask each sequence then starts at its own last element.
"""
from ..autograd.function import Function
from ..autograd import grad_mode
from ..backend import xp
from ..tensor import Tensor

_state = grad_mode.state


# ------------------------------------------------------------------ helpers
class _Workspace:
    """Reuse of the large per-sequence arrays (gates, saved states, gate
    gradients).  Fresh multi-MiB arrays cost page faults on every call (a
    third of an LSTM step's time here); arrays handed back by ``release``
    after backward are reused by the next call of the same shape."""

    def __init__(self, cap_bytes=256 << 20, per_key=6):
        self.free, self.bytes, self.cap, self.per_key = {}, 0, cap_bytes, per_key

    def get(self, shape, dtype):
        lst = self.free.get((shape, dtype))
        if lst:
            a = lst.pop()
            self.bytes -= a.nbytes
            return a
        return xp.empty(shape, dtype)

    def put(self, *arrays):
        for a in arrays:
            if a is None or a.base is not None or not a.flags.c_contiguous:
                continue
            if self.bytes + a.nbytes > self.cap:
                continue
            lst = self.free.setdefault((a.shape, a.dtype), [])
            if len(lst) < self.per_key and not any(b is a for b in lst):
                lst.append(a)
                self.bytes += a.nbytes


_ws = _Workspace()


class _SeqFunction(Function):
    """Base of the fused recurrent Functions: hands the saved arrays back to
    the workspace once backward is done (``release``) or right after forward
    when no graph is recorded (``keep=False``)."""

    def _done_forward(self, keep):
        if not keep:
            _ws.put(*self.cache)
            self.cache = None

    def release(self):
        cache = self.__dict__.get("cache")
        if cache:
            _ws.put(*cache)
        super().release()


def _recording(*inputs):
    if not _state.enabled:
        return False
    return any(isinstance(t, Tensor) and t.requires_grad for t in inputs)


def _gate_scale(n_tanh_at, H, dtype, total):
    """Per-column pre-scale (0.5 for sigmoid gates, 1 for tanh) and shift."""
    s = xp.full(total * H, 0.5, dtype)
    sh = xp.full(total * H, 0.5, dtype)
    for k in n_tanh_at:
        s[k * H:(k + 1) * H] = 1
        sh[k * H:(k + 1) * H] = 0
    return s, sh


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _input_proj(x, w_ih, scale, bias):
    """All timesteps' input projections in one GEMM: (T,B,I) -> (T,B,G)."""
    T, B, I = x.shape
    wT = w_ih.T * scale if scale is not None else w_ih.T
    xw = _ws.get((T, B, wT.shape[1]), x.dtype)
    xp.matmul(x.reshape(T * B, I), wT, out=xw.reshape(T * B, -1))
    if bias is not None:
        xw += bias
    return xw


def _out_array(T, B, H, dt, batch_major):
    """(T, B, H) output; with batch_major its storage is (B, T, H), so that a
    batch_first caller's transpose back is contiguous (no copy before the
    next Linear)."""
    if batch_major:
        return xp.empty((B, T, H), dt).transpose(1, 0, 2)
    return xp.empty((T, B, H), dt)


def _weight_grads(fn, x, dG, prev, w_ih, dGh=None):
    """dx, dW_ih, dW_hh, db_ih, db_hh from the per-step gate gradients."""
    T, B, I = x.shape
    need = fn.needs_input_grad
    dGf = dG.reshape(T * B, -1)
    dGhf = dGf if dGh is None else dGh.reshape(T * B, -1)
    dx = xp.matmul(dGf, w_ih).reshape(T, B, I) if need[0] else None
    dw_ih = xp.matmul(dGf.T, x.reshape(T * B, I)) if need[fn.W_IH] else None
    dw_hh = xp.matmul(dGhf.T, prev.reshape(T * B, -1)) if need[fn.W_IH + 1] else None
    db_ih = dGf.sum(0) if need[fn.W_IH + 2] else None
    if need[fn.W_IH + 3]:
        db_hh = db_ih.copy() if (dGh is None and db_ih is not None) else dGhf.sum(0)
    else:
        db_hh = None
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _bias_sum(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    if b_hh is None:
        return b_ih
    return b_ih + b_hh


# ------------------------------------------------------------------ LSTM
def _lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, batch_major=False):
    T, B, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    scale, shift = _gate_scale((2,), H, dt, 4)
    b = _bias_sum(b_ih, b_hh)
    bs = None if b is None else b * scale     # added per step on cache-hot rows, not in a cold pass
    A = _input_proj(x, w_ih, scale, None)     # becomes the activations
    whs = w_hh * scale[:, None]
    Hp = _ws.get((T, B, H), dt)    # state before step t
    Cp = _ws.get((T, B, H), dt)
    TC = _ws.get((T, B, H), dt)    # tanh(c after step t)
    out = _out_array(T, B, H, dt, batch_major)
    h, c = h0, c0
    # W h^T into a (4H, B) buffer: the same GEMM as h W^T, but OpenBLAS's
    # AVX-512 kernels run this shape up to 1.7x faster (equal on AVX2 ones)
    bufT = xp.empty((4 * H, B), dt)
    buf = bufT.T
    ig = xp.empty((B, H), dt)
    matmul, tanh, mul = xp.matmul, xp.tanh, xp.multiply
    ts = list(_order(T, reverse))
    if T:
        Cp[ts[0]] = c0
    for k, t in enumerate(ts):
        Hp[t] = h
        a = A[t]
        matmul(whs, h.T, out=bufT)
        a += buf
        if bs is not None:
            a += bs
        tanh(a, out=a)
        a *= scale
        a += shift
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = Cp[t]
        # the new cell state goes straight into the next step's saved slot (no copy)
        cn = Cp[ts[k + 1]] if k + 1 < T and mask is None else xp.empty((B, H), dt)
        mul(f, c, out=cn)
        mul(i, g, out=ig)
        cn += ig
        tc = TC[t]
        tanh(cn, out=tc)
        hn = out[t]
        mul(o, tc, out=hn)
        if mask is not None:
            m = mask[t][:, None]
            h = xp.where(m, hn, h)
            c = xp.where(m, cn, c)
            if k + 1 < T:
                Cp[ts[k + 1]] = c
            hn *= m
        else:
            h, c = hn, cn
    return out, h, c, (A, Hp, Cp, TC)


def _lstm_backward(cache, w_hh, mask, reverse, gout, ghn, gcn):
    A, Hp, Cp, TC = cache
    T, B, G = A.shape
    H = G // 4
    dt = A.dtype
    dA = _ws.get(A.shape, dt)
    d = xp.empty((B, G), dt)          # gate derivative factors of one step (cache-hot)
    p = xp.empty((B, H), dt)
    dh = xp.array(ghn, dt) if ghn is not None else xp.zeros((B, H), dt)
    dc = xp.array(gcn, dt) if gcn is not None else xp.zeros((B, H), dt)
    dhb = xp.empty((B, H), dt)        # dh + the output's gradient of this step
    # dh^T = W_hh^T da^T into an (H, B) buffer: faster than da W_hh on AVX-512 OpenBLAS
    whhT = xp.ascontiguousarray(w_hh.T)
    dhT = xp.empty((H, B), dt)
    matmul, mul, sub = xp.matmul, xp.multiply, xp.subtract
    H2, H3 = 2 * H, 3 * H
    for t in _order(T, not reverse):
        if gout is not None:
            dhc = xp.add(dh, gout[t], out=dhb)
        else:
            dhc = dh
        if mask is not None:
            m = mask[t][:, None]
            nm = ~m
            dh_pass = dh * nm
            dc_pass = dc * nm
            dhc = dhc * m
            dc = dc * m
        a, da, tc = A[t], dA[t], TC[t]
        mul(tc, tc, out=p)
        sub(1, p, out=p)
        p *= a[:, H3:]
        p *= dhc
        dc += p                                         # dc += dh * o * (1 - tanh(c)^2)
        sub(1, a, out=d)
        d *= a                                          # sigmoid' for i, f, o
        g_, dg_ = a[:, H2:H3], d[:, H2:H3]
        mul(g_, g_, out=dg_)
        sub(1, dg_, out=dg_)                            # tanh' for g
        mul(dc, g_, out=da[:, :H])
        mul(dc, Cp[t], out=da[:, H:H2])
        mul(dc, a[:, :H], out=da[:, H2:H3])
        mul(dhc, tc, out=da[:, H3:])
        da *= d
        if mask is None:
            matmul(whhT, da.T, out=dhT)
            dh = dhT.T
            dc *= a[:, H:H2]
        else:
            dh = matmul(da, w_hh)
            dc = dc * a[:, H:H2]
            dh += dh_pass
            dc += dc_pass
    return dA, xp.ascontiguousarray(dh), dc


class LSTMSeq(_SeqFunction):
    """One LSTM layer, one direction, over a whole sequence.

    apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask=None, reverse=False)
    -> (output (T,B,H), h_n (B,H), c_n (B,H))."""
    W_IH = 3

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask=None, reverse=False, keep=True,
                batch_major=False):
        out, h, c, cache = _lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mask, reverse, batch_major)
        self.x, self.w_ih, self.w_hh, self.cache = x, w_ih, w_hh, cache
        self.mask, self.reverse = mask, reverse
        self._done_forward(keep)
        return out, xp.array(h, copy=True), xp.array(c, copy=True) if c is c0 else c

    def backward(self, gout, ghn, gcn):
        dA, dh0, dc0 = _lstm_backward(self.cache, self.w_hh, self.mask, self.reverse, gout, ghn, gcn)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dA, self.cache[1], self.w_ih)
        _ws.put(dA)
        return dx, dh0, dc0, dwi, dwh, dbi, dbh


class LSTMCellFn(_SeqFunction):
    """One LSTM step: apply(x (B,I), h, c, w_ih, w_hh, b_ih, b_hh) -> (h', c')."""
    W_IH = 3

    def forward(self, x, h, c, w_ih, w_hh, b_ih, b_hh, keep=True):
        x3 = x[None]
        out, hn, cn, cache = _lstm_forward(x3, h, c, w_ih, w_hh, b_ih, b_hh, None, False)
        self.x, self.w_ih, self.w_hh, self.cache = x3, w_ih, w_hh, cache
        self._done_forward(keep)
        return out[0], (xp.array(cn, copy=True) if cn is c else cn)

    def backward(self, ghn, gcn):
        dA, dh0, dc0 = _lstm_backward(self.cache, self.w_hh, None, False, None, ghn, gcn)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dA, self.cache[1], self.w_ih)
        _ws.put(dA)
        return (None if dx is None else dx[0]), dh0, dc0, dwi, dwh, dbi, dbh


# ------------------------------------------------------------------ GRU
def _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse, batch_major=False):
    T, B, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    scale, shift = _gate_scale((2,), H, dt, 3)
    b = None
    if b_ih is not None or b_hh is not None:
        b = xp.zeros(3 * H, dt)
        if b_ih is not None:
            b += b_ih
        if b_hh is not None:
            b[:2 * H] += b_hh[:2 * H]       # b_hr, b_hz add outside; b_hn stays inside r*(...)
        b *= scale
    b_hn = b_hh[2 * H:] if b_hh is not None else None
    A = _input_proj(x, w_ih, scale, b)       # r, z, n activations after the loop
    whT = (w_hh * scale[:, None]).T
    Hp = _ws.get((T, B, H), dt)
    HN = _ws.get((T, B, H), dt)              # W_hn h + b_hn (needed for dr)
    out = _out_array(T, B, H, dt, batch_major)
    buf = xp.empty((B, 3 * H), dt)
    sc2, sh2 = scale[:2 * H], shift[:2 * H]
    h = h0
    for t in _order(T, reverse):
        Hp[t] = h
        a = A[t]
        xp.matmul(h, whT, out=buf)
        rz = a[:, :2 * H]
        rz += buf[:, :2 * H]
        xp.tanh(rz, out=rz)
        rz *= sc2
        rz += sh2
        hn_ = HN[t]
        hn_[...] = buf[:, 2 * H:]
        if b_hn is not None:
            hn_ += b_hn
        n = a[:, 2 * H:]
        n += rz[:, :H] * hn_
        xp.tanh(n, out=n)
        hnew = out[t]
        xp.subtract(h, n, out=hnew)
        hnew *= rz[:, H:]
        hnew += n
        if mask is not None:
            m = mask[t][:, None]
            h = xp.where(m, hnew, h)
            hnew *= m
        else:
            h = hnew
    return out, h, (A, Hp, HN)


def _gru_backward(cache, w_hh, mask, reverse, gout, ghn):
    A, Hp, HN = cache
    T, B, G = A.shape
    H = G // 3
    dt = A.dtype
    dGh = _ws.get(A.shape, dt)              # grads of the hidden-side pre-activations
    dGx = _ws.get(A.shape, dt)              # grads of the input-side pre-activations
    d = xp.empty((B, 2 * H), dt)            # sigmoid' of r, z for one step (cache-hot)
    e = xp.empty((B, H), dt)
    dh = xp.array(ghn, dt) if ghn is not None else xp.zeros((B, H), dt)
    for t in _order(T, not reverse):
        dhc = dh + gout[t] if gout is not None else dh
        if mask is not None:
            m = mask[t][:, None]
            dh_pass = dh * ~m
            dhc = dhc * m
        a, dg, dx = A[t], dGh[t], dGx[t]
        rt, zt, nt = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        dnp = dx[:, 2 * H:]
        xp.subtract(1, zt, out=dnp)
        dnp *= dhc
        xp.multiply(nt, nt, out=e)
        xp.subtract(1, e, out=e)
        dnp *= e                                            # d n_pre = dh (1-z) (1-n^2)
        xp.multiply(dnp, rt, out=dg[:, 2 * H:])             # d (W_hn h + b_hn)
        xp.multiply(dnp, HN[t], out=dg[:, :H])              # d r
        xp.subtract(Hp[t], nt, out=dg[:, H:2 * H])
        dg[:, H:2 * H] *= dhc                               # d z = dh (h - n)
        xp.subtract(1, a[:, :2 * H], out=d)
        d *= a[:, :2 * H]
        dg[:, :2 * H] *= d                                  # d r_pre, d z_pre
        dx[:, :2 * H] = dg[:, :2 * H]
        dh = xp.matmul(dg, w_hh)
        dh += dhc * zt
        if mask is not None:
            dh += dh_pass
    return dGx, dGh, dh


class GRUSeq(_SeqFunction):
    """One GRU layer, one direction: apply(x, h0, w_ih, w_hh, b_ih, b_hh,
    mask=None, reverse=False) -> (output (T,B,H), h_n (B,H))."""
    W_IH = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, mask=None, reverse=False, keep=True,
                batch_major=False):
        out, h, cache = _gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse, batch_major)
        self.x, self.w_ih, self.w_hh, self.cache = x, w_ih, w_hh, cache
        self.mask, self.reverse = mask, reverse
        self._done_forward(keep)
        return out, xp.array(h, copy=True)

    def backward(self, gout, ghn):
        dGx, dGh, dh0 = _gru_backward(self.cache, self.w_hh, self.mask, self.reverse, gout, ghn)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dGx, self.cache[1], self.w_ih, dGh)
        _ws.put(dGx, dGh)
        return dx, dh0, dwi, dwh, dbi, dbh


class GRUCellFn(_SeqFunction):
    """One GRU step: apply(x (B,I), h, w_ih, w_hh, b_ih, b_hh) -> h'."""
    W_IH = 2

    def forward(self, x, h, w_ih, w_hh, b_ih, b_hh, keep=True):
        x3 = x[None]
        out, hn, cache = _gru_forward(x3, h, w_ih, w_hh, b_ih, b_hh, None, False)
        self.x, self.w_ih, self.w_hh, self.cache = x3, w_ih, w_hh, cache
        self._done_forward(keep)
        return out[0]

    def backward(self, ghn):
        dGx, dGh, dh0 = _gru_backward(self.cache, self.w_hh, None, False, None, ghn)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dGx, self.cache[1], self.w_ih, dGh)
        _ws.put(dGx, dGh)
        return (None if dx is None else dx[0]), dh0, dwi, dwh, dbi, dbh


# ------------------------------------------------------------------ Elman RNN
def _rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse, relu, batch_major=False):
    T, B, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    A = _input_proj(x, w_ih, None, _bias_sum(b_ih, b_hh))
    whT = w_hh.T
    Hp = _ws.get((T, B, H), dt)
    out = _out_array(T, B, H, dt, batch_major)
    buf = xp.empty((B, H), dt)
    h = h0
    for t in _order(T, reverse):
        Hp[t] = h
        a = A[t]
        xp.matmul(h, whT, out=buf)
        a += buf
        if relu:
            xp.maximum(a, 0, out=a)
        else:
            xp.tanh(a, out=a)
        hn = out[t]
        hn[...] = a
        if mask is not None:
            m = mask[t][:, None]
            h = xp.where(m, hn, h)
            hn *= m
        else:
            h = hn
    return out, h, (A, Hp)


def _rnn_backward(cache, w_hh, mask, reverse, gout, ghn, relu):
    A, Hp = cache
    T, B, H = A.shape
    dt = A.dtype
    D = _ws.get(A.shape, dt)
    if relu:
        xp.greater(A, 0, out=D)
    else:
        xp.multiply(A, A, out=D)
        xp.subtract(1, D, out=D)
    dA = _ws.get(A.shape, dt)
    dh = xp.array(ghn, dt) if ghn is not None else xp.zeros((B, H), dt)
    for t in _order(T, not reverse):
        dhc = dh + gout[t] if gout is not None else dh
        if mask is not None:
            m = mask[t][:, None]
            dh_pass = dh * ~m
            dhc = dhc * m
        da = dA[t]
        xp.multiply(dhc, D[t], out=da)
        dh = xp.matmul(da, w_hh)
        if mask is not None:
            dh += dh_pass
    _ws.put(D)
    return dA, dh


class RNNSeq(_SeqFunction):
    """One Elman RNN layer (tanh or relu), one direction, over a sequence."""
    W_IH = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, mask=None, reverse=False, relu=False,
                keep=True, batch_major=False):
        out, h, cache = _rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse, relu, batch_major)
        self.x, self.w_ih, self.w_hh, self.cache = x, w_ih, w_hh, cache
        self.mask, self.reverse, self.relu = mask, reverse, relu
        self._done_forward(keep)
        return out, xp.array(h, copy=True)

    def backward(self, gout, ghn):
        dA, dh0 = _rnn_backward(self.cache, self.w_hh, self.mask, self.reverse, gout, ghn, self.relu)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dA, self.cache[1], self.w_ih)
        _ws.put(dA)
        return dx, dh0, dwi, dwh, dbi, dbh


class RNNCellFn(_SeqFunction):
    """One Elman RNN step: apply(x (B,I), h, w_ih, w_hh, b_ih, b_hh, relu=False) -> h'."""
    W_IH = 2

    def forward(self, x, h, w_ih, w_hh, b_ih, b_hh, relu=False, keep=True):
        x3 = x[None]
        out, hn, cache = _rnn_forward(x3, h, w_ih, w_hh, b_ih, b_hh, None, False, relu)
        self.x, self.w_ih, self.w_hh, self.cache, self.relu = x3, w_ih, w_hh, cache, relu
        self._done_forward(keep)
        return out[0]

    def backward(self, ghn):
        dA, dh0 = _rnn_backward(self.cache, self.w_hh, None, False, None, ghn, self.relu)
        dx, dwi, dwh, dbi, dbh = _weight_grads(self, self.x, dA, self.cache[1], self.w_ih)
        _ws.put(dA)
        return (None if dx is None else dx[0]), dh0, dwi, dwh, dbi, dbh


# ------------------------------------------------------------------ functional forms
def lengths_mask(lengths, T):
    """(T, B) bool mask: True where step t < lengths[b]."""
    if lengths is None:
        return None
    ln = lengths._data if isinstance(lengths, Tensor) else xp.asarray(lengths)
    ln = xp.asarray(ln).astype(xp.int64).reshape(-1)
    if ln.size and (ln.min() < 0 or ln.max() > T):
        raise ValueError(f"lengths must lie in [0, {T}] for a sequence of {T} steps; got "
                         f"min {int(ln.min())}, max {int(ln.max())}")
    return xp.arange(T)[:, None] < ln[None, :]


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False,
               batch_major=False):
    """One LSTM layer over a time-major sequence; returns (output, h_n, c_n).
    batch_major=True stores the (T, B, H) output as a transposed (B, T, H) array."""
    return LSTMSeq.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                         mask=lengths_mask(lengths, x.shape[0]), reverse=reverse,
                         keep=_recording(x, h0, c0, w_ih, w_hh, b_ih, b_hh), batch_major=batch_major)


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False,
              batch_major=False):
    """One GRU layer over a time-major sequence; returns (output, h_n)."""
    return GRUSeq.apply(x, h0, w_ih, w_hh, b_ih, b_hh,
                        mask=lengths_mask(lengths, x.shape[0]), reverse=reverse,
                        keep=_recording(x, h0, w_ih, w_hh, b_ih, b_hh), batch_major=batch_major)


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False,
              nonlinearity="tanh", batch_major=False):
    """One Elman RNN layer over a time-major sequence; returns (output, h_n)."""
    return RNNSeq.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mask=lengths_mask(lengths, x.shape[0]),
                        reverse=reverse, relu=nonlinearity == "relu",
                        keep=_recording(x, h0, w_ih, w_hh, b_ih, b_hh), batch_major=batch_major)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    return LSTMCellFn.apply(x, h, c, w_ih, w_hh, b_ih, b_hh,
                            keep=_recording(x, h, c, w_ih, w_hh, b_ih, b_hh))


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return GRUCellFn.apply(x, h, w_ih, w_hh, b_ih, b_hh,
                           keep=_recording(x, h, w_ih, w_hh, b_ih, b_hh))


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    return RNNCellFn.apply(x, h, w_ih, w_hh, b_ih, b_hh, relu=nonlinearity == "relu",
                           keep=_recording(x, h, w_ih, w_hh, b_ih, b_hh))
