"""A hybrid two-tower recommender: a user tower and an item tower, each
combining an id embedding with an MLP over side features (age, gender,
occupation; genres, year), meeting in a dot product plus biases:

    r(u, i) = mu + b_u + b_i + f(user u) . g(item i)

where each vector is an id embedding plus an MLP of the features, and each
bias an id bias plus a linear function of the features.

Cold start: every id table has one extra "unknown" row, and during training
each id is replaced by it with probability ``id_dropout``, so the towers learn
to score from features alone.  A user or item never seen in training (id
``-1``, or ``score_new_user`` with its features) takes that path instead of
raising.  The feature matrices are buffers, so a state dict holds them."""
import numpy as np

from ... import nn
from ...tensor import Tensor


def _t(a):
    return Tensor._make(a, False, None)


class _Tower(nn.Module):
    def __init__(self, n, feat_dim, dim, hidden):
        super().__init__()
        self.n = n
        self.embedding = nn.Embedding(n + 1, dim)  # row n: unknown / cold
        self.bias = nn.Embedding(n + 1, 1)
        self.features = nn.Sequential(nn.Linear(feat_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.feature_bias = nn.Linear(feat_dim, 1)  # e.g. how generous an age group rates
        nn.init.normal_(self.embedding.weight, 0.0, 0.05)
        nn.init.zeros_(self.bias.weight)
        nn.init.zeros_(self.feature_bias.weight)
        nn.init.zeros_(self.feature_bias.bias)

    def forward(self, ids, feats):
        return (self.embedding(ids) + self.features(feats),
                self.bias(ids).reshape(-1) + self.feature_bias(feats).reshape(-1))


class TwoTower(nn.Module):
    def __init__(self, user_features, item_features, dim=32, hidden=64, id_dropout=0.2,
                 global_mean=3.5):
        super().__init__()
        uf = np.asarray(user_features, np.float32)
        itf = np.asarray(item_features, np.float32)
        self.num_users, self.num_items = len(uf), len(itf)
        self.id_dropout = id_dropout
        self.register_buffer("user_features", _t(np.vstack([uf, np.zeros((1, uf.shape[1]), np.float32)])))
        self.register_buffer("item_features", _t(np.vstack([itf, np.zeros((1, itf.shape[1]), np.float32)])))
        self.user_tower = _Tower(self.num_users, uf.shape[1], dim, hidden)
        self.item_tower = _Tower(self.num_items, itf.shape[1], dim, hidden)
        self.global_bias = nn.Parameter(np.array([global_mean], np.float32))

    def _ids(self, x, n, what):
        a = np.asarray(x._data if isinstance(x, Tensor) else x)
        if a.dtype.kind not in "iu":
            raise TypeError(f"TwoTower: {what} ids must be integers, got {a.dtype}")
        a = a.astype(np.int64).reshape(-1)
        if a.size and (a.max() >= n or a.min() < -1):
            bad = int(a.max()) if a.max() >= n else int(a.min())
            raise ValueError(f"TwoTower: {what} id {bad} is outside 0..{n - 1}; pass -1 for a "
                             f"{what} never seen in training (cold start: scored from features), "
                             f"or score_new_{what}(features, ...) for one with its own features")
        return np.where(a < 0, n, a)

    def forward(self, users, items):
        u = self._ids(users, self.num_users, "user")
        i = self._ids(items, self.num_items, "item")
        uf, itf = self.user_features._data[u], self.item_features._data[i]
        if self.training and self.id_dropout > 0:
            from ... import backend
            rng = backend.rng()
            u = np.where(rng.random(u.shape) < self.id_dropout, self.num_users, u)
            i = np.where(rng.random(i.shape) < self.id_dropout, self.num_items, i)
        return self._score(u, i, uf, itf)

    def _score(self, u, i, uf, itf):
        uv, ub = self.user_tower(_t(u), _t(uf))
        iv, ib = self.item_tower(_t(i), _t(itf))
        return (uv * iv).sum(-1) + ub + ib + self.global_bias

    def penalty(self, users, items, bias_weight=1.0):
        """Squared id vectors (+ biases) of the batch's rows, as BiasedMF's."""
        u = _t(self._ids(users, self.num_users, "user"))
        i = _t(self._ids(items, self.num_items, "item"))
        ut, it = self.user_tower, self.item_tower
        pen = (ut.embedding(u) ** 2).sum() + (it.embedding(i) ** 2).sum()
        if bias_weight:
            pen = pen + bias_weight * ((ut.bias(u) ** 2).sum() + (it.bias(i) ** 2).sum())
        return pen

    def score_new_user(self, features, items):
        """Ratings of ``items`` for one new user described by ``features``."""
        items = self._ids(items, self.num_items, "item")
        f = np.repeat(np.asarray(features, np.float32).reshape(1, -1), len(items), 0)
        u = np.full(len(items), self.num_users)
        return self._score(u, items, f, self.item_features._data[items])

    def item_embeddings(self):
        from ...autograd import grad_mode
        ids = np.arange(self.num_items)
        with grad_mode.no_grad():
            v, _ = self.item_tower(_t(ids), _t(self.item_features._data[:-1]))
        return v.numpy()
