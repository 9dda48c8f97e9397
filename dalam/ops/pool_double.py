"""Double backward (``create_graph=True``) for max pooling, which MAML's
second-order meta-gradient needs (a conv4 backbone pools after every block).

Max pooling's backward routes each window's gradient to the window's first
maximum.  The route depends on x only through the argmax, which is constant
almost everywhere, so the backward is a *linear* map of gy:

* ``MaxPoolScatter``: gy (N, C, OH, OW) -> gx (N, C, H, W), the routing;
* ``MaxPoolGather``: its transpose, gx -> each window's value at its maximum.

Each is the other's backward, so gradients of any order stay graph ops (and
the second derivative with respect to x is zero, as PyTorch's).
"""
from ..autograd.function import Function
from .pool import MaxPool2dFn, _offsets, _pad_to, _scatter_windows


class _Route:
    """The first-maximum masks of one max-pool call, per kernel offset."""

    def __init__(self, xpad, y, geom):
        self.geom = geom
        shape, k, s, p, d, out = geom
        self.masks, claimed = [], None
        for _, _, sl in _offsets(k, s, d, out):
            m = xpad[sl] == y
            if claimed is None:
                claimed = m.copy()
            else:
                m &= ~claimed
                claimed |= m
            self.masks.append((sl, m))

    def scatter(self, gy):
        shape, k, s, p, d, out = self.geom
        it = iter(self.masks)
        return _scatter_windows(lambda kh, kw, sl: gy * next(it)[1], gy, shape, k, s, d, out, p)

    def gather(self, gx):
        shape, k, s, p, d, out = self.geom
        gpad = _pad_to(gx, p, out, k, s, d, 0)
        y = None
        for sl, m in self.masks:
            t = gpad[sl] * m
            y = t if y is None else y + t
        return y


class MaxPoolScatter(Function):
    saves = ()

    def forward(self, gy, route):
        self.route = route
        return self.route.scatter(gy)

    def backward(self, g):
        return self.route.gather(g)

    def backward_graph(self, g):
        return MaxPoolGather.apply(g, route=self.route)


class MaxPoolGather(Function):
    saves = ()

    def forward(self, gx, route):
        self.route = route
        return self.route.gather(gx)

    def backward(self, g):
        return self.route.scatter(g)

    def backward_graph(self, g):
        return MaxPoolScatter.apply(g, route=self.route)


def _max_pool_backward_graph(self, gy, gi=None):
    route = _Route(self.xpad, self.y, self.geom)
    return MaxPoolScatter.apply(gy, route=route)


MaxPool2dFn.backward_graph = _max_pool_backward_graph
