"""Prototypical networks (Snell, Swersky & Zemel, NeurIPS 2017).

A class is represented by its *prototype*, the mean embedding of its support
examples; a query gets logits = minus its squared Euclidean distance to each
prototype.  Trained episodically with cross-entropy on the queries, the
embedding learns to cluster characters it has never seen."""
from .. import nn
from ..nn import functional as F
from ..autograd.grad_mode import no_grad
from ..ops.shape import cat
from .backbone import conv4, to_input


def squared_distances(a, b):
    """(n, d), (m, d) -> (n, m) squared Euclidean distances, GEMM-shaped."""
    return (a * a).sum(1, keepdim=True) - 2 * (a @ b.t()) + (b * b).sum(1).unsqueeze(0)


def prototypes(z, y, n_way):
    """Mean embedding per class 0..n_way-1: (n_way, d)."""
    onehot = F.one_hot(y, n_way).to(z.dtype)  # (n, n_way)
    return (onehot.t() @ z) / onehot.sum(0).unsqueeze(1)


class PrototypicalNetwork(nn.Module):
    def __init__(self, encoder=None):
        super().__init__()
        self.encoder = encoder if encoder is not None else conv4()

    def forward(self, support_x, support_y, query_x, n_way):
        """Logits (n_query, n_way).  Support and query go through the encoder
        as one batch (one set of GEMMs per layer)."""
        sx, qx = to_input(support_x), to_input(query_x)
        ns = len(sx)
        z = self.encoder(cat([sx, qx]))
        return -squared_distances(z[ns:], prototypes(z[:ns], support_y, n_way))

    def loss(self, support_x, support_y, query_x, query_y, n_way):
        logits = self(support_x, support_y, query_x, n_way)
        return F.cross_entropy(logits, query_y), logits

    def predict(self, support_x, support_y, query_x, n_way):
        with no_grad():
            return self(support_x, support_y, query_x, n_way)

    # evaluation shortcut: in eval mode an image's embedding does not depend on
    # the rest of its batch, so episodes can reuse embeddings computed once
    def embed(self, x):
        with no_grad():
            return self.encoder(to_input(x))

    def scores_from_embeddings(self, zs, support_y, zq, n_way):
        return -squared_distances(zq, prototypes(zs, support_y, n_way))
