"""Biased matrix factorisation, the "SVD" of the Netflix prize (Koren et al.):

    r(u, i) = mu + b_u + b_i + p_u . q_i

trained on squared error with an L2 penalty on the rows a batch touches
(``regularization``), as Surprise's SVD does per rating."""
import numpy as np

from ... import nn
from ...ops.pair_score import pair_score
from ._ids import as_ids


class BiasedMF(nn.Module):
    def __init__(self, num_users, num_items, dim=64, global_mean=3.5, init_std=0.1, sparse=False):
        super().__init__()
        self.num_users, self.num_items, self.dim, self.sparse = num_users, num_items, dim, sparse
        self.user_factors = nn.Embedding(num_users, dim, sparse=sparse)
        self.item_factors = nn.Embedding(num_items, dim, sparse=sparse)
        self.user_bias = nn.Embedding(num_users, 1, sparse=sparse)
        self.item_bias = nn.Embedding(num_items, 1, sparse=sparse)
        self.global_bias = nn.Parameter(np.array([global_mean], np.float32))
        nn.init.normal_(self.user_factors.weight, 0.0, init_std)
        nn.init.normal_(self.item_factors.weight, 0.0, init_std)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def ids(self, users, items):
        u = as_ids(users, self.num_users, "user", "BiasedMF",
                   "; a new user has no factors: use TwoTower (features) for cold start")
        i = as_ids(items, self.num_items, "item", "BiasedMF",
                   "; a new item has no factors: use TwoTower (features) for cold start")
        return u, i

    def forward(self, users, items):
        """Predicted ratings (B,) of the (user, item) pairs."""
        from ...tensor import Tensor
        u, i = self.ids(users, items)
        ut, it = Tensor._make(u, False, None), Tensor._make(i, False, None)
        dot = pair_score(self.user_factors.weight, self.item_factors.weight, u, i, self.sparse)
        return (dot + self.user_bias(ut).reshape(-1) + self.item_bias(it).reshape(-1)
                + self.global_bias)

    def penalty(self, users, items, bias_weight=1.0):
        """Sum of squared factors (+ ``bias_weight`` x squared biases) of the
        batch's rows, Surprise's per-rating regularisation."""
        from ...tensor import Tensor
        u, i = self.ids(users, items)
        ut, it = Tensor._make(u, False, None), Tensor._make(i, False, None)
        pen = (self.user_factors(ut) ** 2).sum() + (self.item_factors(it) ** 2).sum()
        if bias_weight:
            pen = pen + bias_weight * ((self.user_bias(ut) ** 2).sum()
                                       + (self.item_bias(it) ** 2).sum())
        return pen

    def item_embeddings(self):
        return self.item_factors.weight.detach().numpy()

    def score_all(self, users):
        """(len(users), num_items) predicted ratings, for ranking."""
        u = as_ids(users, self.num_users, "user", "BiasedMF")
        P = self.user_factors.weight.detach().numpy()
        Q = self.item_factors.weight.detach().numpy()
        bu = self.user_bias.weight.detach().numpy()[:, 0]
        bi = self.item_bias.weight.detach().numpy()[:, 0]
        return P[u] @ Q.T + bu[u, None] + bi[None, :] + float(self.global_bias.detach().numpy()[0])
