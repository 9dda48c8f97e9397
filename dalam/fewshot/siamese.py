"""Siamese network with a verification loss (Koch, Zemel & Salakhutdinov,
ICML deep learning workshop 2015).

Twin encoders (shared weights) embed two images; a learned weighted L1
distance ``w . |h1 - h2| + b`` is the logit of "same character".  Trained with
binary cross-entropy on same/different pairs, then used for one-shot
classification: a query takes the class of the support image it most
resembles (averaged over shots for K-shot)."""
import numpy as np

from .. import nn
from ..nn import functional as F
from ..autograd.grad_mode import no_grad
from ..ops.shape import cat
from ..creation import tensor
from .backbone import conv4, to_input


class SiameseNetwork(nn.Module):
    def __init__(self, encoder=None, embed_dim=None):
        super().__init__()
        self.encoder = encoder if encoder is not None else conv4()
        if embed_dim is None:
            with no_grad():
                was = self.encoder.training
                self.encoder.eval()
                embed_dim = self.encoder(to_input(np.zeros((1, 28, 28), np.uint8))).shape[1]
                self.encoder.train(was)
        self.head = nn.Linear(embed_dim, 1)

    def pair_logits(self, h1, h2):
        """Logits of "same" for embedding pairs (n, d), (n, d) -> (n,)."""
        return self.head((h1 - h2).abs()).squeeze(1)

    def forward(self, x1, x2):
        a, b = to_input(x1), to_input(x2)
        h = self.encoder(cat([a, b]))
        return self.pair_logits(h[:len(a)], h[len(a):])

    def loss(self, x1, x2, same):
        """Binary cross-entropy of "same character?" on a batch of pairs."""
        logits = self(x1, x2)
        target = tensor(np.asarray(same, np.float32))
        return F.binary_cross_entropy_with_logits(logits, target), logits

    @staticmethod
    def sample_pairs(labels, n_pairs, rng, groups=None):
        """Index pairs, half of the same class and half of different classes
        (from the same group, e.g. alphabet, when ``groups`` is given: the
        hard negatives of the within-alphabet task).  Returns (i1, i2, same)."""
        labels = np.asarray(labels)
        order = np.argsort(labels, kind="stable")
        classes, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
        n_same = n_pairs // 2
        i1 = rng.integers(0, len(labels), n_pairs)
        c1 = np.searchsorted(classes, labels[i1])
        # same: another item of the class
        pos = rng.integers(0, counts[c1[:n_same]])
        i2_same = order[starts[c1[:n_same]] + pos]
        # different: an item of another class (same group if asked)
        i2_diff = np.empty(n_pairs - n_same, np.int64)
        for j, i in enumerate(i1[n_same:]):
            if groups is not None:
                cand = np.flatnonzero((np.asarray(groups) == groups[i]) & (labels != labels[i]))
            else:
                cand = None
            if cand is None or not len(cand):
                k = rng.integers(0, len(labels))
                while labels[k] == labels[i]:
                    k = rng.integers(0, len(labels))
                i2_diff[j] = k
            else:
                i2_diff[j] = cand[rng.integers(len(cand))]
        same = np.concatenate([np.ones(n_same, np.float32), np.zeros(n_pairs - n_same, np.float32)])
        return i1, np.concatenate([i2_same, i2_diff]), same

    def predict(self, support_x, support_y, query_x, n_way):
        """Scores (n_query, n_way): mean "same" logit against each class's shots."""
        with no_grad():
            sx, qx = to_input(support_x), to_input(query_x)
            h = self.encoder(cat([sx, qx]))
            return self.scores_from_embeddings(h[:len(sx)], support_y, h[len(sx):], n_way)

    def embed(self, x):
        with no_grad():
            return self.encoder(to_input(x))

    def scores_from_embeddings(self, hs, support_y, hq, n_way):
        with no_grad():
            ns, nq = len(hs), len(hq)
            d = (hq.unsqueeze(1) - hs.unsqueeze(0)).abs()  # (nq, ns, dim)
            logits = self.head(d.reshape(nq * ns, -1)).reshape(nq, ns)
            onehot = F.one_hot(support_y, n_way).to(logits.dtype)
            return (logits @ onehot) / onehot.sum(0)
