"""Cholesky factorisation and triangular solves (``dalam.linalg.cholesky``,
``dalam.linalg.solve_triangular``, ``Tensor.cholesky_inverse``).

They are what a multivariate normal needs: ``A = L L^T`` turns a covariance
into a scale, and solving with the triangle ``L`` gives Mahalanobis distances
without ever forming an inverse.

Like PyTorch, ``cholesky`` reads only the lower triangle of A and its
gradient is the symmetric matrix (so gradcheck it through ``X X^T``);
``solve_triangular`` reads only the triangle it is told to.
"""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method


def _swap(x):
    return xp.swapaxes(x, -1, -2)


def _tri(x, upper):
    return xp.triu(x) if upper else xp.tril(x)


def _phi(x):
    """Lower triangle with the diagonal halved (the Cholesky backward's projector)."""
    y = xp.tril(x)
    d = xp.diagonal(y, axis1=-2, axis2=-1)
    return y - 0.5 * d[..., None] * xp.eye(x.shape[-1], dtype=x.dtype)


def _trsolve(a, b):
    """a^{-1} b for a triangular (numpy has no triangular solver; LU on a
    triangle costs the same order and is as accurate here)."""
    return xp.linalg.solve(a, b)


class Cholesky(Function):
    saves = ()
    saves_output = True

    def forward(self, A, upper):
        try:
            L = xp.linalg.cholesky(A).astype(A.dtype, copy=False)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                f"linalg.cholesky: the input (shape {A.shape}) is not positive-definite; a covariance "
                "matrix must be symmetric with positive eigenvalues (add a small multiple of the "
                "identity, e.g. A + 1e-6 * eye(n))") from None
        self.L, self.upper = L, upper
        return _swap(L).copy() if upper else L

    def backward(self, g):
        L = self.L
        if self.upper:
            g = _swap(g)
        # A = L L^T  =>  gA = L^{-T} phi(L^T gL) L^{-1}, symmetrised
        inner = _phi(xp.matmul(_swap(L), g))
        left = _trsolve(_swap(L), inner)                      # L^{-T} inner
        gA = _swap(_trsolve(_swap(L), _swap(left)))           # (...) L^{-1}
        return 0.5 * (gA + _swap(gA))


class SolveTriangular(Function):
    def forward(self, A, B, upper, unitriangular):
        T = _tri(A, upper)
        if unitriangular:
            n = A.shape[-1]
            T = T * (1 - xp.eye(n, dtype=A.dtype)) + xp.eye(n, dtype=A.dtype)
        try:
            X = _trsolve(T, B)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.solve_triangular: the triangular matrix (shape {A.shape}) has "
                               "a zero on its diagonal; the system has no unique solution") from None
        self.T, self.X, self.upper, self.unit = T, X, upper, unitriangular
        return X

    def backward(self, g):
        gB = _trsolve(_swap(self.T), g)
        gA = None
        if self.needs_input_grad[0]:
            gA = _tri(-xp.matmul(gB, _swap(self.X)), self.upper)
            if self.unit:
                gA = gA * (1 - xp.eye(gA.shape[-1], dtype=gA.dtype))
        return gA, gB


def _check_square(op, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: expected a square matrix or a batch of them (..., n, n), got shape "
                           f"{tuple(A.shape)}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {A.dtype}")


def cholesky(A, *, upper=False):
    """L lower-triangular with A = L L^T (upper=True gives U = L^T, A = U^T U)."""
    _check_square("linalg.cholesky", A)
    return Cholesky.apply(A, bool(upper))


@method("cholesky")
def _tensor_cholesky(A, upper=False):
    return cholesky(A, upper=upper)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (left=True) or X A = B, A triangular (upper or lower)."""
    _check_square("linalg.solve_triangular", A)
    if not isinstance(B, Tensor) or B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: B must be a matrix or a batch of them (..., n, k), "
                           f"got shape {tuple(getattr(B, 'shape', ()))}; for a vector use B.unsqueeze(-1)")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: A and B need the same dtype, got {A.dtype} and "
                           f"{B.dtype}")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"linalg.solve_triangular: A of shape {tuple(A.shape)} and B of shape "
                           f"{tuple(B.shape)} do not match (B needs {n} rows)")
    try:
        bs = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve_triangular: batch dimensions of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)} cannot be broadcast") from None
    if A.shape[:-2] != bs:
        A = A.expand(*bs, n, n)
    if B.shape[:-2] != bs:
        B = B.expand(*bs, *B.shape[-2:])
    return SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))


@method("cholesky_inverse")
def cholesky_inverse(L, upper=False):
    """(L L^T)^{-1} from its Cholesky factor L (U^T U with upper=True)."""
    _check_square("cholesky_inverse", L)
    n = L.shape[-1]
    eye = Tensor._make(np.broadcast_to(np.eye(n, dtype=L.dtype), L.shape).copy(), False, None)
    Linv = solve_triangular(L, eye, upper=upper)  # L^{-1}
    return Linv.mT @ Linv if not upper else Linv @ Linv.mT
