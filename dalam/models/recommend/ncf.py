"""Neural collaborative filtering (He et al., WWW 2017), for implicit feedback:

* GMF: the element-wise product of user and item embeddings, weighted by a
  linear layer (MF generalised);
* MLPRec: concatenated embeddings through a tower of ReLU layers;
* NeuMF: both, with separate embeddings, their last layers concatenated into
  one logit.  Outputs are logits: train with ``BCEWithLogitsLoss``.
Layer names follow the paper's reference code (embedding_user_mf, ...)."""
import numpy as np

from ... import nn
from ...tensor import Tensor
from ._ids import as_ids


def _t(a):
    return Tensor._make(a, False, None)


class _Pairs(nn.Module):
    def _ids(self, users, items):
        return (_t(as_ids(users, self.num_users, "user", type(self).__name__)),
                _t(as_ids(items, self.num_items, "item", type(self).__name__)))

    def score_all(self, users, batch=256):
        """(len(users), num_items) logits, for full ranking."""
        from ...autograd import grad_mode
        users = np.asarray(users, np.int64)
        out = np.empty((len(users), self.num_items), np.float32)
        items = np.arange(self.num_items)
        with grad_mode.no_grad():
            for s in range(0, len(users), batch):
                u = users[s:s + batch]
                uu = np.repeat(u, self.num_items)
                ii = np.tile(items, len(u))
                out[s:s + len(u)] = self(uu, ii).numpy().reshape(len(u), -1)
        return out


class GMF(_Pairs):
    def __init__(self, num_users, num_items, dim=8):
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.embedding_user = nn.Embedding(num_users, dim)
        self.embedding_item = nn.Embedding(num_items, dim)
        self.affine_output = nn.Linear(dim, 1)
        for e in (self.embedding_user, self.embedding_item):
            nn.init.normal_(e.weight, 0.0, 0.01)

    def features(self, u, i):
        return self.embedding_user(u) * self.embedding_item(i)

    def forward(self, users, items):
        u, i = self._ids(users, items)
        return self.affine_output(self.features(u, i)).reshape(-1)


class MLPRec(_Pairs):
    def __init__(self, num_users, num_items, layers=(64, 32, 16, 8), dropout=0.0):
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.embedding_user = nn.Embedding(num_users, layers[0] // 2)
        self.embedding_item = nn.Embedding(num_items, layers[0] // 2)
        mods = []
        for a, b in zip(layers[:-1], layers[1:]):
            mods += [nn.Linear(a, b), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        self.fc_layers = nn.Sequential(*mods)
        self.affine_output = nn.Linear(layers[-1], 1)
        for e in (self.embedding_user, self.embedding_item):
            nn.init.normal_(e.weight, 0.0, 0.01)

    def features(self, u, i):
        from ... import cat
        return self.fc_layers(cat([self.embedding_user(u), self.embedding_item(i)], -1))

    def forward(self, users, items):
        u, i = self._ids(users, items)
        return self.affine_output(self.features(u, i)).reshape(-1)


class NeuMF(_Pairs):
    def __init__(self, num_users, num_items, mf_dim=8, layers=(64, 32, 16, 8), dropout=0.0):
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.gmf = GMF(num_users, num_items, mf_dim)
        self.mlp = MLPRec(num_users, num_items, layers, dropout)
        del self.gmf.affine_output, self.mlp.affine_output
        self.affine_output = nn.Linear(mf_dim + layers[-1], 1)

    def forward(self, users, items):
        from ... import cat
        u, i = self._ids(users, items)
        return self.affine_output(cat([self.gmf.features(u, i), self.mlp.features(u, i)],
                                      -1)).reshape(-1)

    def item_embeddings(self):
        return np.concatenate([self.gmf.embedding_item.weight.detach().numpy(),
                               self.mlp.embedding_item.weight.detach().numpy()], 1)
