"""More linear algebra: addmm/addmv/baddbmm (fused beta*input + alpha*A@B),
tensordot, kron, cross, cdist, det/inverse/slogdet/solve, vector/matrix
norms and svdvals (the ``dalam.linalg`` namespace), plus small dtype helpers
(finfo, iinfo, result_type, broadcast_shapes) and ``Tensor.new_*``.

Gradients of det/inverse/solve assume invertible matrices (as the formulas
do); singular inputs give inf/nan gradients rather than PyTorch's SVD path.
"""
import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import method, norm_dim, default_float
from .elementwise import _scalar


def _swap(x):
    return xp.swapaxes(x, -1, -2)


def _shp(t):
    return tuple(t.shape)


# ----------------------------------------------------------------- addmm / addmv / baddbmm
class AddMatMul(Function):
    """beta * input + alpha * (a @ b) for mm (2-D), mv (b 1-D) and bmm (3-D)."""

    def forward(self, x, a, b, beta, alpha):
        self.a, self.b, self.beta, self.alpha = a, b, beta, alpha
        y = xp.matmul(a, b)
        if alpha != 1:
            y = y * alpha
        if beta == 0:  # PyTorch: input is ignored (nan/inf in it do not propagate)
            return y
        return y + (x if beta == 1 else x * beta)

    def backward(self, gy):
        need = self.needs_input_grad
        a, b, alpha, beta = self.a, self.b, self.alpha, self.beta
        g = gy * alpha if alpha != 1 else gy
        gx = ga = gb = None
        if need[0]:
            gx = gy * beta if beta != 1 else gy
        if b.ndim == 1:
            if need[1]:
                ga = g[:, None] * b[None, :]
            if need[2]:
                gb = a.T @ g
        else:
            if need[1]:
                ga = xp.matmul(g, _swap(b))
            if need[2]:
                gb = xp.matmul(_swap(a), g)
        return gx, ga, gb


def _addmat(op, input, a, b, beta, alpha, nd_a, nd_b):
    if a.ndim != nd_a or b.ndim != nd_b:
        raise RuntimeError(f"{op}: expected {nd_a}-D and {nd_b}-D operands, got shapes {_shp(a)} and "
                           f"{_shp(b)}")
    ka = a.shape[-1]
    kb = b.shape[0] if nd_b == 1 else b.shape[-2]
    if ka != kb or (nd_a == 3 and a.shape[0] != b.shape[0]):
        raise RuntimeError(f"{op}: shapes {_shp(a)} and {_shp(b)} cannot be multiplied "
                           f"({ka} columns vs {kb} rows{', or different batch sizes' if nd_a == 3 else ''})")
    out_shape = a.shape[:-1] + (b.shape[-1],) if nd_b > 1 else a.shape[:-1]
    try:
        if np.broadcast_shapes(input.shape, out_shape) != tuple(out_shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {_shp(input)} cannot be broadcast to the product's "
                           f"shape {tuple(out_shape)}") from None
    if not (input.dtype == a.dtype == b.dtype):
        raise RuntimeError(f"{op}: expected all operands to have the same dtype, got {input.dtype}, "
                           f"{a.dtype} and {b.dtype}; convert them with .to(dtype)")
    dt = a.dtype
    if dt.kind != "f" and (isinstance(_scalar(beta), float) or isinstance(_scalar(alpha), float)):
        raise RuntimeError(f"{op}: for integer tensors ({dt}), beta and alpha must be integers, got "
                           f"beta={beta}, alpha={alpha}")
    return AddMatMul.apply(input, a, b, np.asarray(_scalar(beta), dt)[()], np.asarray(_scalar(alpha), dt)[()])


@method("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2) in one node (mat1, mat2 2-D)."""
    return _addmat("addmm", input, mat1, mat2, beta, alpha, 2, 2)


@method("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec) (mat 2-D, vec 1-D)."""
    return _addmat("addmv", input, mat, vec, beta, alpha, 2, 1)


@method("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2) (both 3-D, same batch size)."""
    return _addmat("baddbmm", input, batch1, batch2, beta, alpha, 3, 3)


# ----------------------------------------------------------------- tensordot / kron / cross
class TensorDot(Function):
    def forward(self, a, b, ca, cb):
        self.a, self.b, self.ca, self.cb = a, b, ca, cb
        return xp.tensordot(a, b, axes=(ca, cb))

    def backward(self, gy):
        a, b, ca, cb = self.a, self.b, self.ca, self.cb
        need = self.needs_input_grad
        fa = [i for i in range(a.ndim) if i not in ca]
        fb = [i for i in range(b.ndim) if i not in cb]
        nfa = len(fa)
        ga = gb = None
        if need[0]:
            g = xp.tensordot(gy, b, axes=(list(range(nfa, nfa + len(fb))), fb))
            order = fa + [ca[cb.index(j)] for j in sorted(cb)]  # a's axis of each result axis
            ga = xp.transpose(g, np.argsort(order))
        if need[1]:
            g = xp.tensordot(a, gy, axes=(fa, list(range(nfa))))
            order = [cb[ca.index(j)] for j in sorted(ca)] + fb
            gb = xp.transpose(g, np.argsort(order))
        return ga, gb


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` axes of a with the first of b, or the listed
    axes ``dims=([a axes], [b axes])``."""
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is out of range for shapes {_shp(a)} and {_shp(b)}")
        ca = list(range(a.ndim - dims, a.ndim))
        cb = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: both dim lists need the same length, got {da} and {db}")
        ca = [norm_dim(d, a.ndim, "tensordot") for d in da]
        cb = [norm_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(ca, cb):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"tensordot: contracted dimension {i} of shape {_shp(a)} (size {a.shape[i]}) does not "
                f"match dimension {j} of shape {_shp(b)} (size {b.shape[j]})")
    if a.dtype != b.dtype:
        raise RuntimeError(f"tensordot: expected both tensors to have the same dtype, got {a.dtype} "
                           f"and {b.dtype}")
    return TensorDot.apply(a, b, ca, cb)


class Kron(Function):
    def forward(self, a, b):
        n = max(a.ndim, b.ndim)
        sa = (1,) * (n - a.ndim) + a.shape
        sb = (1,) * (n - b.ndim) + b.shape
        self.a, self.b, self.sa, self.sb = a, b, sa, sb
        ae = a.reshape([d for s in sa for d in (s, 1)])
        be = b.reshape([d for s in sb for d in (1, s)])
        return (ae * be).reshape([x * y for x, y in zip(sa, sb)])

    def backward(self, gy):
        a, b, sa, sb = self.a, self.b, self.sa, self.sb
        n = len(sa)
        g = gy.reshape([d for x, y in zip(sa, sb) for d in (x, y)])
        need = self.needs_input_grad
        ga = gb = None
        if need[0]:
            be = b.reshape([d for s in sb for d in (1, s)])
            ga = (g * be).sum(axis=tuple(range(1, 2 * n, 2))).reshape(a.shape)
        if need[1]:
            ae = a.reshape([d for s in sa for d in (s, 1)])
            gb = (g * ae).sum(axis=tuple(range(0, 2 * n, 2))).reshape(b.shape)
        return ga, gb


@method("kron")
def kron(input, other):
    """Kronecker product (blocks input[i] * other)."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"kron: expected both tensors to have the same dtype, got {input.dtype} "
                           f"and {other.dtype}")
    return Kron.apply(input, other)


class Cross(Function):
    def forward(self, a, b, axis):
        self.a, self.b, self.axis = a, b, axis
        return xp.cross(a, b, axis=axis)

    def backward(self, gy):
        ax = self.axis
        need = self.needs_input_grad
        ga = xp.cross(self.b, gy, axis=ax) if need[0] else None
        gb = xp.cross(gy, self.a, axis=ax) if need[1] else None
        return ga, gb


@method("cross")
def cross(input, other, dim=None):
    """3-vector cross product along ``dim`` (default: the first dim of size 3,
    as torch.cross; torch.linalg.cross defaults to -1)."""
    try:
        shape = np.broadcast_shapes(input.shape, other.shape)
    except ValueError:
        raise RuntimeError(f"cross: shapes {_shp(input)} and {_shp(other)} cannot be broadcast") from None
    if dim is None:
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"cross: no dimension of size 3 in shapes {_shp(input)} and {_shp(other)}")
        dim = dims[0]
    if input.ndim != other.ndim:
        raise RuntimeError(f"cross: inputs must have the same number of dimensions (as in PyTorch), "
                           f"got shapes {_shp(input)} and {_shp(other)}")
    d = norm_dim(dim, len(shape), "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"cross: dimension {dim} must have size 3 in both inputs, got shapes "
                           f"{_shp(input)} and {_shp(other)}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"cross: expected both tensors to have the same dtype, got {input.dtype} "
                           f"and {other.dtype}")
    return Cross.apply(input, other, d)


def linalg_cross(input, other, *, dim=-1):
    return cross(input, other, dim=dim)


# ----------------------------------------------------------------- cdist
class CDist(Function):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""

    def forward(self, x1, x2, p):
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        self.diff, self.p = diff, p
        a = xp.abs(diff)
        if p == 2:
            d = xp.sqrt(xp.sum(diff * diff, axis=-1))
        elif p == 1:
            d = xp.sum(a, axis=-1)
        elif p == np.inf:
            d = xp.max(a, axis=-1, initial=0)
        elif p == 0:
            d = xp.sum(a != 0, axis=-1).astype(x1.dtype)
        else:
            d = xp.sum(a ** p, axis=-1) ** (1.0 / p)
        self.d = d
        return d

    def backward(self, gy):
        diff, p, d = self.diff, self.p, self.d
        de = d[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                g = xp.where(de == 0, 0, diff / de)
            elif p == 1:
                g = xp.sign(diff)
            elif p == np.inf:
                a = xp.abs(diff)
                g = xp.where((a == de) & (de > 0), xp.sign(diff), 0)
            elif p == 0:
                g = xp.zeros_like(diff)
            else:
                a = xp.abs(diff)
                g = xp.where(de == 0, 0, xp.sign(diff) * a ** (p - 1) / de ** (p - 1))
        g = (g * gy[..., None]).astype(diff.dtype, copy=False)
        need = self.needs_input_grad
        g1 = g.sum(axis=-2) if need[0] else None
        g2 = -g.sum(axis=-3) if need[1] else None
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between every row of x1 and every row of x2 (direct, exact
    differences: no matmul-based shortcut, so no cancellation)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: expected (..., P, M) and (..., R, M) with the same M, got shapes "
                           f"{_shp(x1)} and {_shp(x2)}")
    if x1.dtype.kind != "f" or x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected floating tensors of the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist: p must be >= 0, got {p}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: batch dimensions of shapes {_shp(x1)} and {_shp(x2)} cannot be "
                           "broadcast") from None
    return CDist.apply(x1, x2, float(p))


# ----------------------------------------------------------------- det / inverse / slogdet / solve
def _check_square(op, A):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: expected a square matrix or a batch of them (..., n, n), got shape "
                           f"{_shp(A)}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {A.dtype}")


def _inv(a):
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"linalg.inv: the input matrix (shape {a.shape}) is singular; it has no "
                           "inverse (use linalg.pinv-style least squares instead)") from None


class Det(Function):
    def forward(self, A):
        self.A = A
        self.y = y = xp.linalg.det(A).astype(A.dtype, copy=False)
        return y

    def backward(self, gy):
        # d det / dA = det * inv(A)^T
        return (gy * self.y)[..., None, None] * _swap(_inv(self.A))


class Inverse(Function):
    saves = ()
    saves_output = True

    def forward(self, A):
        self.y = y = _inv(A)
        return y

    def backward(self, gy):
        yt = _swap(self.y)
        return -xp.matmul(xp.matmul(yt, gy), yt)


class SlogDet(Function):
    def forward(self, A):
        self.A = A
        s, l = xp.linalg.slogdet(A)
        return s.astype(A.dtype, copy=False), l.astype(A.dtype, copy=False)

    def backward(self, gs, gl):
        # the sign is piecewise constant: only log|det| carries a gradient
        return gl[..., None, None] * _swap(_inv(self.A))


class Solve(Function):
    def forward(self, A, B):
        self.A = A
        try:
            self.X = X = xp.linalg.solve(A, B)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.solve: the matrix A (shape {A.shape}) is singular; the system "
                               "has no unique solution") from None
        return X

    def backward(self, gy):
        gB = xp.linalg.solve(_swap(self.A), gy)
        need = self.needs_input_grad
        gA = -xp.matmul(gB, _swap(self.X)) if need[0] else None
        return gA, gB


@method("det")
def det(A):
    """Determinant of a square matrix or a batch (..., n, n)."""
    _check_square("linalg.det", A)
    return Det.apply(A)


@method("inverse")
def inv(A):
    """Inverse of a square matrix or a batch; singular input raises."""
    _check_square("linalg.inv", A)
    return Inverse.apply(A)


inverse = inv


@method("slogdet")
def slogdet(A):
    """(sign, log|det|): the determinant without overflow."""
    _check_square("linalg.slogdet", A)
    return SlogDet.apply(A)


def solve(A, B, *, left=True):
    """X with A @ X = B (left=True) or X @ A = B; B may be a vector (..., n)."""
    _check_square("linalg.solve", A)
    if not left:
        return solve(A.mT, B.mT).mT if B.ndim >= 2 else solve(A.mT, B)
    vec = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    n = A.shape[-1]
    if (vec and B.shape[-1] != n) or (not vec and B.shape[-2] != n):
        raise RuntimeError(f"linalg.solve: A of shape {_shp(A)} and B of shape {_shp(B)} do not match "
                           f"(B needs {n} rows)")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: A and B need the same dtype, got {A.dtype} and {B.dtype}")
    if vec:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: batch dimensions of A {_shp(A)} and B {_shp(B)} cannot be "
                           "broadcast") from None
    if A.shape[:-2] != B.shape[:-2]:  # numpy's solve broadcasts; make it explicit for the grads
        bs = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        A = A.expand(*bs, n, n)
        B = B.expand(*bs, *B.shape[-2:])
    return Solve.apply(A, B)


# ----------------------------------------------------------------- norms
class VectorNorm(Function):
    def forward(self, x, ord, axes, keepdim):
        self.x, self.ord, self.axes, self.keepdim = x, ord, axes, keepdim
        a = xp.abs(x)
        if ord == 2:
            n = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=True))
        elif ord == 1:
            n = xp.sum(a, axis=axes, keepdims=True)
        elif ord == np.inf:
            n = xp.max(a, axis=axes, keepdims=True, initial=0)
        elif ord == -np.inf:
            n = xp.min(a, axis=axes, keepdims=True)
        elif ord == 0:
            n = xp.sum(a != 0, axis=axes, keepdims=True).astype(x.dtype)
        else:
            with np.errstate(divide="ignore"):
                n = xp.sum(a ** ord, axis=axes, keepdims=True) ** (1.0 / ord)
        self.n = n = n.astype(x.dtype, copy=False)
        return n if keepdim else xp.squeeze(n, axis=axes) if axes is not None else n.reshape(())

    def backward(self, gy):
        x, n, ord = self.x, self.n, self.ord
        if not self.keepdim:
            gy = gy.reshape(n.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ord == 2:
                g = xp.where(n == 0, 0, x / n)
            elif ord == 1:
                g = xp.sign(x)
            elif ord in (np.inf, -np.inf):
                hit = xp.abs(x) == n  # ties share the gradient evenly, as in PyTorch
                cnt = xp.sum(hit, axis=self.axes, keepdims=True)
                g = xp.sign(x) * hit / xp.maximum(cnt, 1)
            elif ord == 0:
                g = xp.zeros_like(x)
            else:
                a = xp.abs(x)
                g = xp.where(n == 0, 0, xp.sign(x) * a ** (ord - 1) / n ** (ord - 1))
        return (g * gy).astype(x.dtype, copy=False)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ord-norm of x over ``dim`` (all elements when None), treating it as a vector."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm: expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: expected a floating point tensor as input, got {x.dtype}")
    if dim is None:
        axes = None
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = tuple(norm_dim(d, x.ndim, "linalg.vector_norm") for d in dims)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"linalg.vector_norm: dim {dim} has repeated dimensions")
    if ord == -np.inf and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm: cannot compute the -inf norm of an empty tensor")
    return VectorNorm.apply(x, float(ord), axes, keepdim)


class SvdVals(Function):
    def forward(self, A):
        self.u, s, self.vh = xp.linalg.svd(A, full_matrices=False)
        return s.astype(A.dtype, copy=False)

    def backward(self, gs):
        # d sigma_i / dA = u_i v_i^T (distinct singular values)
        return xp.matmul(self.u * gs[..., None, :], self.vh)


def svdvals(A):
    """Singular values, descending."""
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: expected a matrix or a batch (..., m, n), got {_shp(A)}")
    return SvdVals.apply(A)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms: 'fro', 'nuc', 1/-1 (max/min column sum), inf/-inf (rows), 2/-2 (singular values)."""
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: expected a matrix or a batch, got shape {_shp(A)}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_norm: expected a floating point tensor, got {A.dtype}")
    r, c = (norm_dim(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if r == c:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return vector_norm(A, 2, (r, c), keepdim)
    if ord in ("nuc", 2, -2):
        B = A.movedim((r, c), (-2, -1))
        s = svdvals(B)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(r, c)).unsqueeze(max(r, c))
        return out
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (r, c) if abs(ord) == 1 else (c, r)  # 1: sum over rows, then max over columns
        s = A.abs().sum(inner, keepdim=True)
        out = s.amax(outer, keepdim=True) if ord > 0 else s.amin(outer, keepdim=True)
        return out if keepdim else out.squeeze(max(r, c)).squeeze(min(r, c))
    raise RuntimeError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm for 1-D input or an int dim, a matrix
    norm for 2-D input or a 2-tuple dim, the flattened 2-norm when ord is None."""
    if dim is not None and isinstance(dim, (int, np.integer)):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, got "
                           f"shape {_shp(A)}; pass dim")
    if len(dim) == 1:
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: dim must have 1 or 2 entries, got {dim}")


# ----------------------------------------------------------------- Tensor.new_* (no grad)
def _size_args(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"{op}: sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _made(arr, requires_grad):
    t = Tensor._make(arr, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _new_dt(self, dtype):
    return self.dtype if dtype is None else np.dtype(dtype)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _made(np.zeros(_size_args(size, "new_zeros"), _new_dt(self, dtype)), requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _made(np.ones(_size_args(size, "new_ones"), _new_dt(self, dtype)), requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _made(np.empty(_size_args(size, "new_empty"), _new_dt(self, dtype)), requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _made(np.full(_size_args((size,), "new_full"), fill_value, _new_dt(self, dtype)), requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` with this tensor's dtype (unless ``dtype`` is given)."""
    if isinstance(data, Tensor):
        data = data._data
    return _made(np.array(data, _new_dt(self, dtype)), requires_grad)


Tensor.new_zeros, Tensor.new_ones, Tensor.new_empty = new_zeros, new_ones, new_empty
Tensor.new_full, Tensor.new_tensor = new_full, new_tensor


# ----------------------------------------------------------------- dtype helpers
class finfo:
    """Machine limits of a float dtype (default: the default float dtype),
    as Python floats like ``torch.finfo``."""

    def __init__(self, type=None):
        dt = np.dtype(default_float() if type is None else type)
        if dt.kind != "f":
            raise TypeError(f"finfo: expected a floating point dtype, got {dt}")
        f = np.finfo(dt)
        self.dtype = dt.name
        self.bits = int(f.bits)
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = float(10.0 ** -int(f.precision))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (bits, min, max) as Python ints."""

    def __init__(self, type):
        dt = np.dtype(type)
        if dt.kind not in "iub":
            raise TypeError(f"iinfo: expected an integer dtype, got {dt}")
        if dt.kind == "b":
            self.bits, self.min, self.max = 8, 0, 1
        else:
            i = np.iinfo(dt)
            self.bits, self.min, self.max = int(i.bits), int(i.min), int(i.max)
        self.dtype = dt.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def _cat(dt):
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dt.kind]


def _promote_types(a, b):
    """PyTorch's promote_types: an int with a float gives the float (NumPy would widen)."""
    if a is None:
        return b
    if b is None:
        return a
    ca, cb = _cat(a), _cat(b)
    if ca != cb and (ca >= 2 or cb >= 2) and min(ca, cb) < 2:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _cat(higher) >= 2:
        return higher
    if _cat(higher) == 0 or _cat(lower) >= 2:
        return _promote_types(higher, lower)
    return higher


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on these operands gives (PyTorch's rules:
    dimensioned tensors beat 0-dim tensors beat Python numbers, unless a
    lower group has a higher category: bool < int < float)."""
    dim = zero = wrapped = None
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            if x.ndim > 0:
                dim = _promote_types(dim, x.dtype)
            else:
                zero = _promote_types(zero, x.dtype)
        else:
            x = _scalar(x)
            if isinstance(x, bool):
                dt = np.dtype(bool)
            elif isinstance(x, int):
                dt = np.dtype(np.int64)
            elif isinstance(x, float):
                dt = np.dtype(default_float())
            elif isinstance(x, complex):
                dt = np.dtype(np.complex64)
            else:
                raise TypeError(f"result_type: expected Tensors or Python numbers, got {type(x).__name__}")
            wrapped = _promote_types(wrapped, dt)
    return _combine(dim, _combine(zero, wrapped))


def promote_types(type1, type2):
    return _promote_types(np.dtype(type1), np.dtype(type2))


def broadcast_shapes(*shapes):
    """The shape these shapes broadcast to (an int counts as a 1-D shape)."""
    shp = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shp))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {', '.join(map(str, shp))} cannot be broadcast "
                           "together (trailing dimensions must be equal or 1)") from None
