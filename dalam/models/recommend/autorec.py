"""Item-based AutoRec (Sedhain et al., WWW 2015): each item is the vector of
its ratings by all users (0 where unrated); an autoencoder with one sigmoid
hidden layer reconstructs it, and the loss counts only observed ratings.  The
prediction for (u, i) is the reconstruction of item i at user u."""
import numpy as np

from ... import nn
from ._ids import as_ids


class AutoRec(nn.Module):
    def __init__(self, num_users, num_items, hidden=500):
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.encoder = nn.Linear(num_users, hidden)
        self.decoder = nn.Linear(hidden, num_users)

    def forward(self, x):
        """x: (B, num_users) rating vectors of B items -> reconstructions."""
        if x.shape[-1] != self.num_users:
            raise ValueError(f"AutoRec: expected item rating vectors of length {self.num_users} "
                             f"(one entry per user), got shape {tuple(x.shape)}")
        return self.decoder(self.encoder(x).sigmoid())

    @staticmethod
    def rating_matrix(ratings, num_users, num_items):
        """(num_items, num_users) float32 ratings and the observed mask."""
        R = np.zeros((num_items, num_users), np.float32)
        R[ratings.item, ratings.user] = ratings.rating
        return R, R > 0

    def predict(self, R, users, items, default=3.0):
        """Predicted ratings of (user, item) pairs from the training matrix R;
        clipped to 1..5.  Items with no training rating get ``default``."""
        from ...autograd import grad_mode
        from ...tensor import Tensor
        u = as_ids(users, self.num_users, "user", "AutoRec")
        i = as_ids(items, self.num_items, "item", "AutoRec")
        with grad_mode.no_grad():
            rec = self(Tensor._make(R, False, None)).numpy()
        out = np.clip(rec[i, u], 1.0, 5.0)
        known = R.any(1)
        return np.where(known[i], out, default).astype(np.float32)
