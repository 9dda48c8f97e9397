"""N-way K-shot episodes for few-shot learning.

An episode picks ``n_way`` classes and, from each, ``k_shot`` support
examples and ``n_query`` query examples (all distinct).  ``EpisodeSampler``
is a *batch sampler*: each item it yields is the index list of one episode,
so ``DataLoader(ds, batch_sampler=EpisodeSampler(...))`` fetches an episode
with one fancy index.  Index order inside an episode is fixed: first the
support set, way by way (``k_shot`` each), then the query set, way by way
(``n_query`` each); ``split_episode`` cuts a batch into
``(support_x, support_y, query_x, query_y)`` with labels 0..n_way-1.
"""
import numpy as np

from .sampler import Sampler


class EpisodeSampler(Sampler):
    """Seeded N-way K-shot episodes over ``labels`` (an int array, one label
    per dataset item; or a dataset with ``targets``).

    ``groups`` (optional, one group id per item, e.g. Omniglot's
    ``alphabets``): with ``same_group=True`` all classes of an episode come
    from one group, as in Lake et al.'s within-alphabet task.
    ``episodes``: how many episodes one pass yields.  ``seed``: episode
    ``e`` of pass ``p`` is a function of (seed, p, e) only, so runs repeat.
    """

    def __init__(self, labels, n_way, k_shot, n_query=1, episodes=100, seed=0, groups=None,
                 same_group=False):
        if hasattr(labels, "targets"):
            labels = labels.targets
        labels = np.asarray(getattr(labels, "numpy", lambda: labels)()).reshape(-1)
        if labels.dtype.kind not in "iu":
            raise TypeError(f"EpisodeSampler: labels must be integers, got dtype {labels.dtype}")
        for name, v, lo in (("n_way", n_way, 1), ("k_shot", k_shot, 1), ("n_query", n_query, 0),
                            ("episodes", episodes, 1)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise ValueError(f"EpisodeSampler: {name} must be an int >= {lo}, got {v!r}")
        self.n_way, self.k_shot, self.n_query = int(n_way), int(k_shot), int(n_query)
        self.episodes, self.seed, self.epoch = int(episodes), int(seed), 0
        need = self.k_shot + self.n_query
        classes, counts = np.unique(labels, return_counts=True)
        order = np.argsort(labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        self._items = {int(c): order[starts[i]:starts[i + 1]] for i, c in enumerate(classes)}
        short = classes[counts < need]
        if len(short):
            raise ValueError(
                f"EpisodeSampler: {len(short)} of {len(classes)} classes have fewer than k_shot + n_query "
                f"= {self.k_shot} + {self.n_query} = {need} examples (class {int(short[0])} has "
                f"{int(counts[classes == short[0]][0])}, the smallest has {int(counts.min())}); lower "
                "k_shot or n_query, or drop those classes")
        if groups is not None:
            groups = np.asarray(groups).reshape(-1)
            if len(groups) != len(labels):
                raise ValueError(f"EpisodeSampler: groups has {len(groups)} entries, labels has "
                                 f"{len(labels)}; give one group id per item")
        self.same_group = bool(same_group)
        if self.same_group:
            if groups is None:
                raise ValueError("EpisodeSampler: same_group=True needs groups= (one group id per item)")
            cls_group = {}
            for c, idx in self._items.items():
                g = np.unique(groups[idx])
                if len(g) != 1:
                    raise ValueError(f"EpisodeSampler: class {c} spans groups {g.tolist()}; a class must "
                                     "lie in one group")
                cls_group[c] = g[0]
            self._groups = {}
            for c, g in cls_group.items():
                self._groups.setdefault(g, []).append(c)
            self._groups = [np.asarray(v) for v in self._groups.values() if len(v) >= self.n_way]
            if not self._groups:
                raise ValueError(f"EpisodeSampler: no group has n_way = {self.n_way} classes (largest has "
                                 f"{max(len(v) for v in cls_group.values()) if cls_group else 0})")
        elif len(classes) < self.n_way:
            raise ValueError(f"EpisodeSampler: n_way = {self.n_way} but the labels have only "
                             f"{len(classes)} classes")
        self.classes = classes

    def set_epoch(self, epoch):
        """A new pass draws new episodes (as DistributedSampler.set_epoch)."""
        self.epoch = int(epoch)

    def __len__(self):
        return self.episodes

    def episode(self, e, epoch=None):
        """Index array of episode ``e`` (support then query, way-major)."""
        rng = np.random.default_rng([self.seed, self.epoch if epoch is None else epoch, e])
        if self.same_group:
            pool = self._groups[rng.integers(len(self._groups))]
        else:
            pool = self.classes
        ways = rng.choice(pool, self.n_way, replace=False)
        K, Q = self.k_shot, self.n_query
        picks = np.stack([rng.choice(self._items[int(c)], K + Q, replace=False) for c in ways])
        return np.concatenate([picks[:, :K].reshape(-1), picks[:, K:].reshape(-1)]).astype(np.int64)

    def __iter__(self):
        for e in range(self.episodes):
            yield self.episode(e).tolist()

    def split(self, x, y=None):
        """``split_episode`` with this sampler's shape."""
        return split_episode(x, self.n_way, self.k_shot, self.n_query)


def split_episode(x, n_way, k_shot, n_query):
    """Cut an episode batch (support first, way-major) into
    ``(support_x, support_y, query_x, query_y)``; labels are 0..n_way-1 in the
    order the ways were drawn."""
    ns, nq = n_way * k_shot, n_way * n_query
    if len(x) != ns + nq:
        raise ValueError(f"split_episode: batch has {len(x)} items, expected n_way * (k_shot + n_query) "
                         f"= {n_way} * ({k_shot} + {n_query}) = {ns + nq}")
    from ..creation import tensor
    sy = tensor(np.repeat(np.arange(n_way), k_shot))
    qy = tensor(np.repeat(np.arange(n_way), n_query))
    return x[:ns], sy, x[ns:], qy
