"""``Embedding``: a lookup table of learnable vectors, PyTorch's arguments and
init (N(0, 1), the padding row zeroed).  The gradient is a sorted
scatter-add (dalam.ops.embedding), and the padding row gets none; with
``sparse=True`` it is row-sparse (dalam/sparse_grad.py): only the looked-up
rows, for SparseAdam, SGD and Adagrad to apply without densifying."""
from .. import backend
from ..autograd import grad_mode
from ..ops.embedding import embedding
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"[-{num_embeddings}, {num_embeddings})")
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = bool(sparse)
        if _weight is None:
            dt = dtype or backend.get_default_dtype()
            w = backend.rng().standard_normal((num_embeddings, embedding_dim)).astype(dt)
            self.weight = Parameter(w, requires_grad=not _freeze)
            self._fill_padding_idx_with_zero()
        else:
            shape = tuple(_weight.shape)
            if shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {shape}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight._data if hasattr(_weight, "_data") else _weight,
                                    requires_grad=not _freeze)

    def reset_parameters(self):
        with grad_mode.no_grad():
            self.weight._data[...] = backend.rng().standard_normal(self.weight.shape)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        try:
            return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.sparse)
        except (IndexError, TypeError) as e:
            raise type(e)(str(e).replace("embedding:", f"Embedding({self.num_embeddings}, "
                                                      f"{self.embedding_dim}):", 1)) from None

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D); frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        n, d = embeddings.shape
        return cls(n, d, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                   sparse=sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s


class EmbeddingBag(Module):
    """Sums, means or maxima over bags of embeddings (PyTorch's EmbeddingBag):
    ``forward(input, offsets=None, per_sample_weights=None)`` gives (bags, dim)
    without building the per-element (bags, length, dim) tensor.  Bags are the
    rows of a 2-D input, or runs of a 1-D input starting at ``offsets``."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        from ..ops.embedding_bag import MODES
        if mode not in MODES:
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} must be within "
                                 f"[-{num_embeddings}, {num_embeddings})")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, bool(sparse)
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            dt = dtype or backend.get_default_dtype()
            self.weight = Parameter(
                backend.rng().standard_normal((num_embeddings, embedding_dim)).astype(dt))
            if padding_idx is not None:
                self.weight._data[padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight._data if hasattr(_weight, "_data") else _weight)

    def reset_parameters(self):
        with grad_mode.no_grad():
            self.weight._data[...] = backend.rng().standard_normal(self.weight.shape)
            if self.padding_idx is not None:
                self.weight._data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        from ..ops.embedding_bag import embedding_bag
        try:
            return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                                 self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                                 self.include_last_offset, self.padding_idx)
        except (IndexError, TypeError, ValueError) as e:
            raise type(e)(str(e).replace("embedding_bag:", f"EmbeddingBag({self.num_embeddings}, "
                                                           f"{self.embedding_dim}):", 1)) from None

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        n, d = embeddings.shape
        m = cls(n, d, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                include_last_offset, padding_idx)
        m.weight.requires_grad = not freeze
        return m

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.sparse:
            s += ", sparse=True"
        return s
