"""A SASRec-style sequence recommender (Kang & McAuley, ICDM 2018): a user's
history of items, in time order, goes through causal self-attention
(dalam's TransformerEncoder, pre-norm) and each position predicts the next
item by a dot product with the (shared) item embeddings.

Item ids are shifted by one inside the model: 0 is padding (histories are
left-padded to ``max_len``)."""
import math

import numpy as np

from ... import nn
from ...tensor import Tensor


class SASRec(nn.Module):
    def __init__(self, num_items, max_len=50, dim=64, heads=2, layers=2, dropout=0.2):
        super().__init__()
        self.num_items, self.max_len, self.dim = num_items, max_len, dim
        self.item_embedding = nn.Embedding(num_items + 1, dim, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, dim)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.item_embedding.weight, 0.0, 0.05)
        with_pad = self.item_embedding.weight._data
        with_pad[0] = 0

    def histories(self, seqs):
        """Left-padded (B, max_len) int64 model inputs from lists of 0-based item ids."""
        out = np.zeros((len(seqs), self.max_len), np.int64)
        for r, s in enumerate(seqs):
            s = np.asarray(s[-self.max_len:], np.int64)
            if s.size and (s.min() < 0 or s.max() >= self.num_items):
                raise ValueError(f"SASRec: item id {int(s.max())} in history {r} is outside "
                                 f"0..{self.num_items - 1}")
            if s.size:
                out[r, -s.size:] = s + 1
        return out

    def forward(self, x):
        """x: (B, L) shifted ids (0 = pad) -> (B, L, dim) hidden states."""
        from ... import arange
        a = x._data if isinstance(x, Tensor) else np.asarray(x)
        if a.ndim != 2 or a.shape[1] > self.max_len:
            raise ValueError(f"SASRec: expected (batch, length <= {self.max_len}) item ids, got "
                             f"shape {a.shape}")
        L = a.shape[1]
        xt = Tensor._make(a, False, None)
        h = self.item_embedding(xt) * math.sqrt(self.dim) + self.position_embedding(arange(L))
        keep = Tensor._make((a > 0).astype(np.float32)[..., None], False, None)
        h = self.dropout(h) * keep
        mask = nn.Transformer.generate_square_subsequent_mask(L)
        h = self.encoder(h, mask=mask)
        return self.norm(h) * keep

    def logits(self, h):
        """Scores of every item (B, ..., num_items) from hidden states."""
        return (h @ self.item_embedding.weight[1:].T)

    def score_next(self, seqs):
        """(B, num_items) scores of the next item after each history."""
        from ...autograd import grad_mode
        with grad_mode.no_grad():
            h = self(self.histories(seqs))
            return self.logits(h[:, -1]).numpy()

    def item_embeddings(self):
        return self.item_embedding.weight.detach().numpy()[1:]
