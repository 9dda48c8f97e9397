"""Double backward (``create_graph=True``) for conv and conv-transpose.

A WGAN-GP gradient penalty differentiates ``||d critic / d x||``, i.e. the
gradient of a convolution's gradient.  A convolution's backward is made of
two more linear maps of the same geometry:

* ``dx = conv_dx(gy, w)``: the input gradient (a transposed convolution),
* ``dw = conv_dw(x, gy)``: the weight gradient (a correlation of x with gy).

Each is written here as a ``Function`` whose own backward is again one of
``conv``, ``conv_dx``, ``conv_dw`` (all three are bilinear), so gradients of
gradients of any order stay graph ops.  ``ConvNd.backward_graph`` and
``ConvTransposeNd.backward_graph`` are attached at the bottom.

Geometry ``geom`` = (x_shape, w_shape, stride, pads, dilation, groups), all
4-D (conv1d runs as a conv2d of height 1), pads = (top, bottom, left, right).
"""
from ..backend import xp
from ..autograd.function import Function
from ..tensor import Tensor
from .conv import ConvNd, ConvTransposeNd, _gemm, _im2col, _nhwc_padded

_new = object.__new__


# ----------------------------------------------------------------- array maths
def conv_fwd(x, w, geom):
    """y = conv(x, w) (no bias) as arrays."""
    _, _, s, pads, d, G = geom
    return _new(ConvNd).forward(x, w, stride=s, pads=pads, dilation=d, groups=G)


def conv_dx(gy, w, geom):
    """Gradient of conv with respect to its input: the full transposed
    convolution of gy, placed into the padded input and cropped."""
    (N, C, H, W), _, s, (t, b, l, r), d, G = geom
    full = _new(ConvTransposeNd).forward(gy, w, stride=s, padding=(0, 0), output_padding=(0, 0),
                                         dilation=d, groups=G)
    Hf, Wf = full.shape[2:]
    Hp, Wp = H + t + b, W + l + r
    if (Hf, Wf) == (Hp, Wp) and not (t or l):
        return full
    gx = xp.zeros((N, C, Hp, Wp), gy.dtype)
    gx[:, :, :Hf, :Wf] = full
    return gx[:, :, t:t + H, l:l + W]


def conv_dw(x, gy, geom):
    """Gradient of conv with respect to its weight (O, C/G, KH, KW)."""
    _, (O, Cg, KH, KW), s, pads, d, G = geom
    N = x.shape[0]
    OH, OW = gy.shape[2:]
    Og = O // G
    cols = _im2col(_nhwc_padded(x, pads), G, KH, KW, OH, OW, s, d)  # (G, NP, KK*Cg)
    gyn = gy.transpose(0, 2, 3, 1).reshape(N * OH * OW, O)
    gg = gyn[None] if G == 1 else gyn.reshape(-1, G, Og).transpose(1, 0, 2)
    gwm = _gemm(cols.transpose(0, 2, 1), gg)  # (G, KK*Cg, Og)
    return gwm.reshape(G, KH, KW, Cg, Og).transpose(0, 4, 3, 1, 2).reshape(O, Cg, KH, KW)


# ----------------------------------------------------------------- graph ops
def _t(a):
    return a if isinstance(a, Tensor) else Tensor._make(a, False, None)


def _conv_t(x, w, geom):
    _, _, s, pads, d, G = geom
    return ConvNd.apply(x, w, stride=s, pads=pads, dilation=d, groups=G)


class ConvDx(Function):
    """gx = conv_dx(gy, w): linear in gy and in w."""

    def forward(self, gy, w, geom):
        self.gy, self.w, self.geom = gy, w, geom
        return conv_dx(gy, w, self.geom)

    def backward(self, g):
        need = self.needs_input_grad
        return (conv_fwd(g, self.w, self.geom) if need[0] else None,
                conv_dw(g, self.gy, self.geom) if need[1] else None)

    def backward_graph(self, g):
        geom = self.geom
        gy = _t(self.input_tensor(0, self.gy))
        w = _t(self.input_tensor(1, self.w))
        need = self.needs_input_grad
        return (_conv_t(g, w, geom) if need[0] else None,
                ConvDw.apply(g, gy, geom) if need[1] else None)


class ConvDw(Function):
    """gw = conv_dw(x, gy): linear in x and in gy."""

    def forward(self, x, gy, geom):
        self.x, self.gy, self.geom = x, gy, geom
        return conv_dw(x, gy, geom)

    def backward(self, g):
        need = self.needs_input_grad
        return (conv_dx(self.gy, g, self.geom) if need[0] else None,
                conv_fwd(self.x, g, self.geom) if need[1] else None)

    def backward_graph(self, g):
        geom = self.geom
        x = _t(self.input_tensor(0, self.x))
        gy = _t(self.input_tensor(1, self.gy))
        need = self.needs_input_grad
        return (ConvDx.apply(gy, g, geom) if need[0] else None,
                _conv_t(x, g, geom) if need[1] else None)


def _as4d(t, one_d):
    return t.unsqueeze(2) if one_d else t


def _conv_backward_graph(self, gy):
    one_d, xs, ws, _, s, pads, d, G = self.geom
    need = self.needs_input_grad
    geom = (xs, ws, s, pads, d, G)
    x = _as4d(_t(self.input_tensor(0, self.x)), one_d)
    w = _as4d(_t(self.input_tensor(1, self.w)), one_d)
    g4 = _as4d(gy, one_d)
    gx = ConvDx.apply(g4, w, geom) if need[0] else None
    gw = ConvDw.apply(x, g4, geom) if need[1] else None
    if one_d:
        gx = gx.squeeze(2) if gx is not None else None
        gw = gw.squeeze(2) if gw is not None else None
    if len(need) > 2:
        gb = gy.sum((0, 2)) if one_d else gy.sum((0, 2, 3))
        return gx, gw, (gb if need[2] else None)
    return gx, gw


def _conv_transpose_backward_graph(self, gy):
    # conv_transpose(x, w) == conv_dx(x, w) for the conv that maps the output
    # shape back to x's shape (pads p on both sides; output_padding < stride)
    one_d, xs, ws, _, (OH, OW), s, p, d, G = self.geom
    need = self.needs_input_grad
    N = xs[0]
    Co = ws[1] * G
    geom = ((N, Co, OH, OW), ws, s, (p[0], p[0], p[1], p[1]), d, G)
    x = _as4d(_t(self.input_tensor(0, self.x)), one_d)
    w = _as4d(_t(self.input_tensor(1, self.w)), one_d)
    g4 = _as4d(gy, one_d)
    gx = gw = None
    if need[0]:
        gx = _conv_t(g4, w, geom)
        if tuple(gx.shape) != tuple(xs):
            raise RuntimeError(
                f"conv_transpose: double backward needs output_padding smaller than the stride; "
                f"got an input gradient of shape {tuple(gx.shape)} for input {tuple(xs)}")
    if need[1]:
        gw = ConvDw.apply(g4, x, geom)
    if one_d:
        gx = gx.squeeze(2) if gx is not None else None
        gw = gw.squeeze(2) if gw is not None else None
    if len(need) > 2:
        gb = gy.sum((0, 2)) if one_d else gy.sum((0, 2, 3))
        return gx, gw, (gb if need[2] else None)
    return gx, gw


ConvNd.backward_graph = _conv_backward_graph
ConvTransposeNd.backward_graph = _conv_transpose_backward_graph
