"""Multivariate normal, parameterised by a covariance, a precision or a
lower-triangular scale ``L`` (covariance = L L^T).

Everything runs through ``L``: samples are ``loc + L eps``, densities use a
triangular solve (the Mahalanobis distance) and the log-determinant is the
sum of log diag(L), so no matrix is ever inverted.
"""
import math

import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import as_param, size_tuple, standard_normal

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^{-1} x for broadcastable batches of L (..., n, n) and x (..., n)."""
    from ..ops.triangular import solve_triangular
    n = bx.shape[-1]
    shape = np.broadcast_shapes(bL.shape[:-2], bx.shape[:-1])
    L = bL.expand(*shape, n, n) if bL.shape[:-2] != shape else bL
    x = bx.expand(*shape, n) if bx.shape[:-1] != shape else bx
    sol = solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1)
    return sol.pow(2).sum(-1)


def _precision_to_scale_tril(P):
    """Cholesky factor of P^{-1}, through the flip trick PyTorch uses (stable for
    ill-conditioned P): L = (chol(flip(P))^{-1} flipped)^T."""
    from ..ops.triangular import cholesky, solve_triangular
    Lf = cholesky(P.flip((-2, -1)))
    n = P.shape[-1]
    eye = Tensor._make(np.broadcast_to(np.eye(n, dtype=P.dtype), P.shape).copy(), False, None)
    L_inv = Lf.flip((-2, -1)).mT
    return solve_triangular(L_inv, eye, upper=False)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors: give exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril``; ``loc`` is (..., n)."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        from ..ops.triangular import cholesky
        loc = as_param(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                             "specified.")
        matrix = next(as_param(m, loc) for m in (scale_tril, covariance_matrix, precision_matrix)
                      if m is not None)
        if matrix.ndim < 2:
            name = ["covariance_matrix", "precision_matrix", "scale_tril"][given.index(True)]
            raise ValueError(f"{name} must be at least two-dimensional, with optional leading batch "
                             "dimensions")
        if matrix.shape[-1] != loc.shape[-1] or matrix.shape[-2] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: loc has {loc.shape[-1]} dimensions but the matrix has "
                             f"shape {tuple(matrix.shape)}; it must be (..., {loc.shape[-1]}, "
                             f"{loc.shape[-1]})")
        batch_shape = np.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        n = loc.shape[-1]
        if scale_tril is not None:
            self.scale_tril = matrix.expand(*batch_shape, n, n)
        elif covariance_matrix is not None:
            self.covariance_matrix = matrix.expand(*batch_shape, n, n)
        else:
            self.precision_matrix = matrix.expand(*batch_shape, n, n)
        self.loc = loc.expand(*batch_shape, n)
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = matrix
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = size_tuple(batch_shape)
        loc_shape = batch_shape + self.event_shape
        cov_shape = batch_shape + self.event_shape + self.event_shape
        new.loc = self.loc.expand(*loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(*cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    def __getattr__(self, name):
        # the two parameterisations not given are computed on first use from L
        L = self.__dict__.get("_unbroadcasted_scale_tril")
        if L is None or name not in ("scale_tril", "covariance_matrix", "precision_matrix"):
            raise AttributeError(f"'MultivariateNormal' object has no attribute {name!r}")
        if name == "scale_tril":
            value = L.expand(*self._matrix_shape())
        elif name == "covariance_matrix":
            value = (L @ L.mT).expand(*self._matrix_shape())
        else:
            value = L.cholesky_inverse().expand(*self._matrix_shape())
        self.__dict__[name] = value
        return value

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(*self._batch_shape)
