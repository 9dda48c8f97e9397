"""``pair_score(P, Q, u, i)``: the dot products ``(P[u] * Q[i]).sum(-1)`` of a
batch of (user, item) index pairs, in one op.

Matrix factorisation's whole forward is this; as separate ops it is two
gathers, a product and a sum, each a graph node with its own (B, D)
temporaries.  Fused, the forward is one ``einsum`` and the backward scatters
``gy * Q[i]`` into P's rows and ``gy * P[u]`` into Q's (dense, or row-sparse
with ``sparse=True``, so SparseAdam touches only the batch's rows)."""
from ..autograd.function import Function
from ..autograd.sparse_rows import SparseRows
from ..backend import xp
from .embedding import _scatter_rows, check_indices


class PairScore(Function):
    def forward(self, P, Q, info):
        u, i, sparse = info
        self.pu, self.qi = xp.take(P, u, axis=0), xp.take(Q, i, axis=0)
        self.u, self.i, self.sparse, self.ps, self.qs = u, i, sparse, P.shape, Q.shape
        return xp.einsum("bd,bd->b", self.pu, self.qi)

    def backward(self, gy):
        gp = gy[:, None] * self.qi
        gq = gy[:, None] * self.pu
        if self.sparse:
            return SparseRows(self.u, gp, self.ps), SparseRows(self.i, gq, self.qs)
        return _scatter_rows(self.u, gp, self.ps[0]), _scatter_rows(self.i, gq, self.qs[0])


def pair_score(P, Q, users, items, sparse=False):
    """(B,) scores ``sum_d P[users, d] * Q[items, d]``."""
    u = check_indices(users, P.shape[0], "pair_score (users)").reshape(-1)
    i = check_indices(items, Q.shape[0], "pair_score (items)").reshape(-1)
    if u.shape != i.shape:
        raise ValueError(f"pair_score: users {u.shape} and items {i.shape} must pair up one to one")
    return PairScore.apply(P, Q, (u, i, bool(sparse)))
