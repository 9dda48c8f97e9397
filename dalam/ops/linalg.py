"""matmul (1-D, 2-D, batched and broadcast), mm, bmm, outer, dot, einsum and
the fused ``linear`` (x @ W.T + b).  All the heavy lifting is BLAS GEMM via
``xp.matmul``; an (..., K) @ (K, N) product is flattened into one big GEMM."""
import string

import numpy as np

from ..autograd.function import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import dtype_fix, method


def _mm(a, b):
    """a @ b, folding leading dims of a into one GEMM when b is 2-D."""
    if b.ndim == 2 and a.ndim > 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[1],))
    return xp.matmul(a, b)


def _swap(x):
    return xp.swapaxes(x, -1, -2)


class MatMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return _mm(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        need = self.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if need[0] else None), (gy * a if need[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if need[0]:
            ga = _mm(g2, _swap(b2)) if b2.ndim == 2 else xp.matmul(g2, _swap(b2))
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],))
        if need[1]:
            if b2.ndim == 2 and a2.ndim > 2:
                k = a2.shape[-1]
                gb = a2.reshape(-1, k).T @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = xp.matmul(_swap(a2), g2)
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb

    def backward_graph(self, gy):
        a = self.input_tensor(0, self.a)
        b = self.input_tensor(1, self.b)
        if isinstance(a, np.ndarray):
            a = Tensor._make(a, False, None)
        if isinstance(b, np.ndarray):
            b = Tensor._make(b, False, None)
        if a.ndim == 1 and b.ndim == 1:
            return gy * b, gy * a
        if a.ndim == 1:  # y[..., m] = a[k] @ b[..., k, m]
            g2 = gy.unsqueeze(-2)
            return matmul(g2, b.mT).squeeze(-2), matmul(a.unsqueeze(-1), g2)
        if b.ndim == 1:  # y[..., n] = a[..., n, k] @ b[k]
            g2 = gy.unsqueeze(-1)
            return matmul(g2, b.unsqueeze(0)), matmul(a.mT, g2).squeeze(-1)
        return matmul(gy, b.mT), matmul(a.mT, gy)


def _check_matmul(a, b, op):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need at least 1 dimension; got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise RuntimeError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({ka} columns on the left vs {kb} rows on the right)")
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise RuntimeError(
                f"{op}: batch dimensions {tuple(a.shape[:-2])} and {tuple(b.shape[:-2])} of shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast") from None


def _same_float(a, b, op):
    if a.dtype != b.dtype:
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            dt = np.result_type(a.dtype, b.dtype)
            return a.to(dt), b.to(dt)
        raise RuntimeError(
            f"{op}: expected both operands to have the same dtype, but got {a.dtype} and {b.dtype}; "
            "convert one with .to(dtype)")
    return a, b


@method("matmul", "__matmul__")
def matmul(input, other):
    if isinstance(other, Tensor):
        a, b = input._data, other._data
        if (a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
                and (a.dtype is b.dtype or a.dtype == b.dtype)):
            return MatMul.apply(input, other)  # the common case, checked cheaply
    else:
        other = Tensor._make(np.asarray(other, input.dtype), False, None)
    _check_matmul(input, other, "matmul")
    input, other = _same_float(input, other, "matmul")
    return MatMul.apply(input, other)


Tensor.__rmatmul__ = lambda self, other: matmul(Tensor._make(np.asarray(other, self.dtype), False, None), self)


@method("mm")
def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


@method("bmm")
def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise RuntimeError(
            f"bmm: expected 3-D tensors with the same batch size, got {tuple(input.shape)} and "
            f"{tuple(mat2.shape)}")
    return matmul(input, mat2)


@method("dot")
def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError("dot: 1D tensors expected")
    return matmul(input, other)


@method("outer")
def outer(input, vec2):
    return input.unsqueeze(1) * vec2.unsqueeze(0)


class Linear(Function):
    """y = x @ W.T + b in one node: one GEMM forward, two GEMMs backward."""

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    def backward(self, gy):
        x, w = self.x, self.w
        need = self.needs_input_grad
        g2 = gy.reshape(-1, gy.shape[-1]) if gy.ndim != 2 else gy
        gx = gw = gb = None
        if need[0]:
            gx = (g2 @ w).reshape(x.shape)
        if need[1]:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.T @ x2
        if len(need) > 2 and need[2]:
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)

    def backward_graph(self, gy):
        x = self.input_tensor(0, self.x)
        w = self.input_tensor(1, self.w)
        if isinstance(x, np.ndarray):
            x = Tensor._make(x, False, None)
        if isinstance(w, np.ndarray):
            w = Tensor._make(w, False, None)
        gx = matmul(gy, w)
        g2 = gy.reshape(-1, gy.shape[-1])
        gw = matmul(g2.t(), x.reshape(-1, x.shape[-1]))
        if len(self.edges) > 2:
            return gx, gw, g2.sum(0)
        return gx, gw


def linear(input, weight, bias=None):
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"linear: input's last dimension ({input.shape[-1] if input.ndim else 'scalar'}) must equal "
            f"in_features ({weight.shape[-1]}); input shape {tuple(input.shape)}, weight shape "
            f"{tuple(weight.shape)}")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}; "
            f"{dtype_fix(input.dtype, weight.dtype)}")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


# ----------------------------------------------------------------- einsum
def _parse_einsum(eq, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum: equation has {len(ins)} operands but {len(shapes)} were given")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    ins = [s.replace("...", ell[len(ell) - (len(shp) - (len(s) - 3)):]) if "..." in s else s
           for s, shp in zip(ins, shapes)]
    if out is None:
        counts = {}
        for s in ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    for s, shp in zip(ins, shapes):
        if len(s) != len(shp):
            raise RuntimeError(f"einsum: subscripts {s!r} do not match an operand of shape {tuple(shp)}")
    return ins, out


class Einsum(Function):
    def forward(self, *ops, ins, out):
        self.ops, self.ins, self.out = ops, ins, out
        return xp.einsum(",".join(ins) + "->" + out, *ops, optimize=len(ops) > 2)

    def backward(self, gy):
        grads = []
        for i, (s, x) in enumerate(zip(self.ins, self.ops)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            uniq = "".join(dict.fromkeys(s))  # 'ii' -> 'i': the operand's diagonal is what was used
            others = [(t, o) for j, (t, o) in enumerate(zip(self.ins, self.ops)) if j != i]
            avail = set(self.out).union(*[set(t) for t, _ in others]) if others else set(self.out)
            target = "".join(c for c in uniq if c in avail)
            eq = ",".join([self.out] + [t for t, _ in others]) + "->" + target
            g = xp.einsum(eq, gy, *[o for _, o in others], optimize=len(others) > 1)
            if target != uniq:
                dims = dict(zip(s, x.shape))
                shape = [dims[c] if c in avail else 1 for c in uniq]
                g = xp.broadcast_to(g.reshape(shape), [dims[c] for c in uniq])
            if uniq != s:
                # scatter onto the diagonal: einsum('ii->i', z) is a writeable view of z
                full = xp.zeros(x.shape, dtype=g.dtype)
                xp.einsum(s + "->" + uniq, full)[...] = g
                g = full
            grads.append(g)
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, [o.shape for o in operands])
    sizes = {}
    for s, o in zip(ins, operands):
        for c, n in zip(s, o.shape):
            if c in sizes and sizes[c] != n and n != 1 and sizes[c] != 1:
                raise RuntimeError(
                    f"einsum: subscript {c!r} has size {n} in one operand and {sizes[c]} in another "
                    f"(equation {equation!r})")
            sizes[c] = max(sizes.get(c, n), n)
    return Einsum.apply(*operands, ins=ins, out=out)
