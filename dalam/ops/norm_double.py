"""Double backward (``create_graph=True``) for batch_norm, layer_norm and
group_norm.

The fused norms compute their first derivative in closed form on arrays.  For
a gradient of a gradient (WGAN-GP critics, Hessian-vector products) the same
closed form is rebuilt here from Tensor ops, recomputing the statistics from
the saved input, so every term (including the dependence of mean and 1/std on
x) is differentiated again by the engine.  Only runs under create_graph.
"""
from ..tensor import Tensor
from .norm import BatchNormFn, GroupNormFn, LayerNormFn


def _t(a):
    return a if isinstance(a, Tensor) else Tensor._make(a, False, None)


def _normalise(x, axes, eps):
    """(xhat, invstd) of Tensor x over ``axes`` (biased variance, as forward)."""
    xc = x - x.mean(axes, keepdim=True)
    var = (xc * xc).mean(axes, keepdim=True)
    invstd = (var + eps).rsqrt()
    return xc * invstd, invstd


def _dx(gxh, xhat, invstd, axes):
    m1 = gxh.mean(axes, keepdim=True)
    m2 = (gxh * xhat).mean(axes, keepdim=True)
    return (gxh - m1 - xhat * m2) * invstd


def _inputs(fn):
    need = fn.needs_input_grad
    x = _t(fn.input_tensor(0, fn.x))
    w = _t(fn.input_tensor(1, fn.w)) if len(need) > 1 and fn.w is not None else None
    return need, x, w


def _pack(need, gx, gw, gb):
    out = (gx if need[0] else None,
           gw if len(need) > 1 and need[1] else None,
           gb if len(need) > 2 and need[2] else None)
    return out[:len(need)]


def _batch_norm_graph(self, gy):
    need, x, w = _inputs(self)
    axes, bs = self.axes, self.bs
    if self.training:
        xhat, invstd = _normalise(x, axes, self.eps)
        gxh = gy if w is None else gy * w.reshape(bs)
        gx = _dx(gxh, xhat, invstd, axes) if need[0] else None
    else:  # running statistics are constants
        invstd = _t(self.invstd)
        xhat = (x - _t(self.rm.reshape(bs))) * invstd
        gx = (gy * invstd if w is None else gy * (w.reshape(bs) * invstd)) if need[0] else None
    gw = (gy * xhat).sum(axes) if len(need) > 1 and need[1] else None
    gb = gy.sum(axes) if len(need) > 2 and need[2] else None
    return _pack(need, gx, gw, gb)


def _layer_norm_graph(self, gy):
    need, x, w = _inputs(self)
    nd = self.nd
    axes = tuple(range(x.ndim - nd, x.ndim))
    lead = tuple(range(x.ndim - nd))
    xhat, invstd = _normalise(x, axes, self.eps)
    gx = None
    if need[0]:
        gx = _dx(gy if w is None else gy * w, xhat, invstd, axes)
    gw = (gy * xhat).sum(lead) if len(need) > 1 and need[1] else None
    gb = gy.sum(lead) if len(need) > 2 and need[2] else None
    return _pack(need, gx, gw, gb)


def _group_norm_graph(self, gy):
    need, x, w = _inputs(self)
    shape, bs, G = tuple(x.shape), self.bs, self.G
    axes = (0,) + tuple(range(2, x.ndim))
    xg = x.reshape(shape[0] * G, -1)
    xhat_g, invstd = _normalise(xg, (1,), self.eps)
    xhat = xhat_g.reshape(shape)
    gx = None
    if need[0]:
        gxh = gy if w is None else gy * w.reshape(bs)
        gx = _dx(gxh.reshape(shape[0] * G, -1), xhat_g, invstd, (1,)).reshape(shape)
    gw = (gy * xhat).sum(axes) if len(need) > 1 and need[1] else None
    gb = gy.sum(axes) if len(need) > 2 and need[2] else None
    return _pack(need, gx, gw, gb)


BatchNormFn.backward_graph = _batch_norm_graph
LayerNormFn.backward_graph = _layer_norm_graph
GroupNormFn.backward_graph = _group_norm_graph
