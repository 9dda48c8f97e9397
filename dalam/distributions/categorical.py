"""Categorical distribution over ``0 .. K-1``: the policy of discrete-action agents."""
import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, size_tuple

__all__ = ["Categorical"]


class Categorical(Distribution):
    """Give exactly one of ``probs`` (non-negative, normalised along the last
    dim) or ``logits`` (unnormalised log-probabilities) of shape (..., K)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        from .utils import as_param
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = as_param(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = as_param(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1]
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = size_tuple(batch_shape)
        param_shape = batch_shape + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(*param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(*param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        from .utils import probs_to_logits
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return Tensor._make(np.full(self._extended_shape(), np.nan, self._param.dtype), False, None)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return self.mean

    def sample(self, sample_shape=()):
        """Inverse-CDF sampling, vectorised over the batch (one uniform per draw)."""
        from .. import backend
        sample_shape = size_tuple(sample_shape)
        p = self.probs._data.astype(np.float64)
        cdf = np.cumsum(p, -1)
        u = backend.rng().random(sample_shape + self._batch_shape + (1,)) * cdf[..., -1:]
        idx = (np.broadcast_to(cdf, u.shape[:-1] + cdf.shape[-1:]) <= u).sum(-1)
        return Tensor._make(np.minimum(idx, self._num_events - 1).astype(np.int64), False, None)

    def log_prob(self, value):
        from ..ops.structure import broadcast_tensors
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand=True):
        n = self._num_events
        values = Tensor._make(np.arange(n, dtype=np.int64).reshape((-1,) + (1,) * len(self._batch_shape)),
                              False, None)
        if expand:
            values = values.expand(n, *self._batch_shape)
        return values
