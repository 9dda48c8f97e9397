"""Double backward (``create_graph=True``) for embedding lookups.

The weight gradient of ``weight[idx]`` is a scatter-add of the output gradient
(linear in it); its own derivative is the gather ``g[idx]`` again.  Needed
when a gradient penalty runs through a label-conditioned critic."""
from ..backend import xp
from ..autograd.function import Function
from ..tensor import Tensor
from .embedding import EmbeddingFn, _scatter_rows


class EmbeddingGrad(Function):
    """gw = scatter_add(gy by idx) (padding row zeroed, optional 1/count scaling)."""

    def forward(self, gy, info):
        self.info = info
        idx, num, pad, freq = info
        self.shape = gy.shape
        i = idx.reshape(-1)
        g = gy.reshape(i.size, -1)
        if freq:
            g = g / self._counts(g.dtype)[i][:, None]
        gw = _scatter_rows(i, g, num).reshape((num,) + gy.shape[idx.ndim:])
        if pad is not None:
            gw[pad] = 0
        return gw

    def _counts(self, dtype):
        idx, num, _, _ = self.info
        return xp.bincount(idx.reshape(-1), minlength=num).astype(dtype)

    def _row_scale(self, dtype):
        """Per looked-up row: 0 for the padding row, 1/count with scale_grad_by_freq."""
        idx, num, pad, freq = self.info
        s = xp.ones(num, dtype)
        if freq:
            s = s / xp.maximum(self._counts(dtype), 1)
        if pad is not None:
            s[pad] = 0
        return s[idx].reshape(idx.shape + (1,) * (len(self.shape) - idx.ndim))

    def backward(self, g):
        idx = self.info[0]
        return xp.take(g, idx, axis=0) * self._row_scale(g.dtype)

    def backward_graph(self, g):
        scale = Tensor._make(self._row_scale(g.dtype), False, None)
        return EmbeddingFn.apply(g, self.info[0]) * scale


def _embedding_backward_graph(self, gy):
    return EmbeddingGrad.apply(gy, info=(self.idx, self.num, self.pad, self.freq)), None


EmbeddingFn.backward_graph = _embedding_backward_graph
