"""One table of ops drives the op tests (PyTorch's OpInfo idea).

Each ``OpInfo`` says how to call an op in *either* library: ``fn(L, *xs)``
gets a namespace ``L`` (``L.m`` is ``dalam`` or ``torch``, ``L.F`` the
functional module, ``L.long``/``L.bool`` make index/mask tensors) and the
differentiable input tensors.  ``samples`` lists the input shapes per call
(broadcasting, size-1, 0-dim and EMPTY dimensions), ``domain`` the range the
inputs are drawn from (e.g. positive for log).  The tests in
test_ops_*.py check, for every entry and sample: forward values, dtype and
input gradients against PyTorch in float32 and float64, and
``dalam.autograd.gradcheck`` in float64.
"""
import types
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as TF

import dalam
from dalam.ops import activation as _act, index as _idx, shape as _shp, linalg as _lin


def _dalam_ns():
    F = types.SimpleNamespace(
        leaky_relu=_act.leaky_relu, elu=_act.elu, gelu=_act.gelu, silu=_act.silu,
        softplus=_act.softplus, relu=_act.relu, sigmoid=_act.sigmoid, tanh=_act.tanh,
        softmax=_act.softmax, log_softmax=_act.log_softmax, one_hot=_idx.one_hot, pad=_shp.pad,
        linear=_lin.linear)
    return types.SimpleNamespace(
        m=dalam, F=F, name="dalam",
        long=lambda a: dalam.tensor(np.asarray(a, np.int64)),
        bool=lambda a: dalam.tensor(np.asarray(a, bool)))


def _torch_ns():
    return types.SimpleNamespace(
        m=torch, F=TF, name="torch",
        long=lambda a: torch.from_numpy(np.array(a, np.int64)),
        bool=lambda a: torch.from_numpy(np.array(a, bool)))


D = _dalam_ns()
T = _torch_ns()


@dataclass
class OpInfo:
    name: str
    fn: object                 # fn(L, *inputs) -> tensor or tuple of tensors
    samples: list              # list of tuples of input shapes
    family: str
    domain: object = "any"     # "any" | "pos" | "nonzero" | (lo, hi), or a list per input
    grad: bool = True          # differentiable (gradcheck + gradient parity)
    rtol32: float = 1e-5
    atol32: float = 1e-6
    gradcheck: bool = True
    ids: list = field(default=None)

    def __repr__(self):
        return self.name


def make_input(shape, domain, rng, dtype):
    """Draw one input array in float64, then cast (both libraries get the same bits)."""
    if domain == "any":
        a = rng.standard_normal(shape)
    elif domain == "pos":
        a = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "distinct":  # well separated values: no ties for max/min/sort
        n = int(np.prod(shape))
        a = (rng.permutation(n) * 0.37 - n * 0.15 + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    else:
        lo, hi = domain
        a = rng.uniform(lo, hi, shape)
    return np.asarray(a, np.float64).astype(dtype)


def sample_arrays(op, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    doms = op.domain if isinstance(op.domain, list) else [op.domain] * len(shapes)
    return [make_input(s, d, rng, dtype) for s, d in zip(shapes, doms)]


# ---------------------------------------------------------------- samples
BIN = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)),
       ((0, 3), (1, 3)), ((), (2, 3)), ((2, 3), ()), ((1,), (0,))]
UN = [((3, 4),), ((2, 1, 3),), ((),), ((0, 3),), ((5,),)]
R3 = [((2, 3, 4),), ((0, 3),), ((3, 1),)]


def _ops():
    E = "elementwise"
    ops = [
        OpInfo("add", lambda L, a, b: a + b, BIN, E),
        OpInfo("add_alpha", lambda L, a, b: L.m.add(a, b, alpha=2.5), BIN[:3], E),
        OpInfo("sub", lambda L, a, b: a - b, BIN, E),
        OpInfo("mul", lambda L, a, b: a * b, BIN, E),
        OpInfo("div", lambda L, a, b: a / b, BIN, E, domain=["any", "nonzero"]),
        OpInfo("pow_tensor", lambda L, a, b: a ** b, BIN, E, domain=["pos", "any"]),
        OpInfo("pow_2", lambda L, a: a ** 2, UN, E),
        OpInfo("pow_3", lambda L, a: a ** 3, UN, E),
        OpInfo("pow_half", lambda L, a: a ** 0.5, UN, E, domain="pos"),
        OpInfo("pow_neg", lambda L, a: a ** -1.5, UN, E, domain="pos"),
        OpInfo("add_scalar", lambda L, a: a + 1.5, UN, E),
        OpInfo("sub_scalar", lambda L, a: a - 2, UN, E),
        OpInfo("mul_scalar", lambda L, a: a * -0.75, UN, E),
        OpInfo("div_scalar", lambda L, a: a / 3.0, UN, E),
        OpInfo("radd", lambda L, a: 1.5 + a, UN, E),
        OpInfo("rsub", lambda L, a: 2.5 - a, UN, E),
        OpInfo("rmul", lambda L, a: 3 * a, UN, E),
        OpInfo("rdiv", lambda L, a: 2.0 / a, UN, E, domain="nonzero"),
        OpInfo("rpow", lambda L, a: 2.0 ** a, UN, E),
        OpInfo("neg", lambda L, a: -a, UN, E),
        OpInfo("exp", lambda L, a: a.exp(), UN, E),
        OpInfo("log", lambda L, a: a.log(), UN, E, domain="pos"),
        OpInfo("log1p", lambda L, a: a.log1p(), UN, E, domain=(-0.5, 2.0)),
        OpInfo("sqrt", lambda L, a: a.sqrt(), UN, E, domain="pos"),
        OpInfo("rsqrt", lambda L, a: a.rsqrt(), UN, E, domain="pos"),
        OpInfo("abs", lambda L, a: a.abs(), UN, E, domain="nonzero"),
        OpInfo("sign", lambda L, a: a.sign(), UN, E, domain="nonzero"),
        OpInfo("sin", lambda L, a: a.sin(), UN, E),
        OpInfo("cos", lambda L, a: a.cos(), UN, E),
        OpInfo("tanh", lambda L, a: a.tanh(), UN, E),
        OpInfo("sigmoid", lambda L, a: a.sigmoid(), UN, E),
        OpInfo("sigmoid_big", lambda L, a: (a * 50).sigmoid(), UN[:1], E),
        OpInfo("relu", lambda L, a: a.relu(), UN, E, domain="nonzero"),
        OpInfo("leaky_relu", lambda L, a: L.F.leaky_relu(a, 0.1), UN, E, domain="nonzero"),
        OpInfo("elu", lambda L, a: L.F.elu(a, 1.3), UN, E, domain="nonzero"),
        OpInfo("gelu", lambda L, a: L.F.gelu(a), UN, E),
        OpInfo("gelu_wide", lambda L, a: L.F.gelu(a * 4), UN[:1], E),
        OpInfo("gelu_tanh", lambda L, a: L.F.gelu(a, approximate="tanh"), UN, E),
        OpInfo("silu", lambda L, a: L.F.silu(a), UN, E),
        OpInfo("softplus", lambda L, a: L.F.softplus(a), UN, E),
        OpInfo("softplus_beta", lambda L, a: L.F.softplus(a * 10, beta=2.0, threshold=5.0), UN[:2], E,
               domain="nonzero"),
        OpInfo("clamp", lambda L, a: a.clamp(-0.5, 0.5), UN, E),
        OpInfo("clamp_min", lambda L, a: a.clamp(min=0.1), UN, E),
        OpInfo("clamp_max", lambda L, a: L.m.clamp(a, max=0.2), UN, E),
        OpInfo("clamp_tensor", lambda L, a, lo, hi: L.m.clamp(a, lo, lo + hi.abs()),
               [((3, 4), (3, 4), (1, 4)), ((0, 2), (1, 2), (1,))], E),
        OpInfo("maximum", lambda L, a, b: L.m.maximum(a, b), BIN, E),
        OpInfo("minimum", lambda L, a, b: L.m.minimum(a, b), BIN, E),
        OpInfo("max_binary", lambda L, a, b: L.m.max(a, b), BIN[:3], E),
        OpInfo("where", lambda L, a, b: L.m.where(a > 0, a, b), BIN, E),
        OpInfo("where_scalar", lambda L, a: L.m.where(a > 0, a, 0.5), UN, E),
        OpInfo("square", lambda L, a: a.square(), UN, E),
        OpInfo("reciprocal", lambda L, a: a.reciprocal(), UN, E, domain="nonzero"),
        OpInfo("clone", lambda L, a: a.clone(), UN, E),
    ]
    for nm in ("lt", "le", "gt", "ge", "eq", "ne"):
        ops.append(OpInfo(nm, (lambda n: lambda L, a, b: getattr(a, n)(b))(nm), BIN, E, grad=False))
        ops.append(OpInfo(nm + "_scalar", (lambda n: lambda L, a: getattr(a, n)(0.25))(nm), UN, E,
                          grad=False))

    R = "reduce"
    ops += [
        OpInfo("sum", lambda L, a: a.sum(), UN + R3, R),
        OpInfo("sum_dim", lambda L, a: a.sum(1), [((2, 3, 4),), ((0, 3),), ((3, 1),)], R),
        OpInfo("sum_dims_keep", lambda L, a: a.sum((0, -1), keepdim=True), R3, R),
        OpInfo("mean", lambda L, a: a.mean(), [((3, 4),), ((),), ((2, 1, 3),)], R),
        OpInfo("mean_dim", lambda L, a: a.mean(-1, keepdim=True), R3, R),
        OpInfo("mean_dims", lambda L, a: a.mean((0, 1)), [((2, 3, 4),), ((3, 0, 2),)], R),
        OpInfo("var", lambda L, a: a.var(), [((3, 4),), ((2, 1, 3),)], R),
        OpInfo("var_dim", lambda L, a: a.var(1), R3[:2] + [((2, 3, 1),)], R),
        OpInfo("var_biased_keep", lambda L, a: a.var(0, unbiased=False, keepdim=True), R3, R),
        OpInfo("var_correction", lambda L, a: L.m.var(a, (0, 1), correction=0), [((2, 3, 4),)], R),
        OpInfo("std", lambda L, a: a.std(), [((3, 4),), ((5,),)], R),
        OpInfo("std_dim", lambda L, a: a.std(-1, keepdim=True), R3[:2], R),
        OpInfo("max", lambda L, a: a.max(), [((3, 4),), ((),), ((2, 3, 4),)], R, domain="distinct"),
        OpInfo("min", lambda L, a: a.min(), [((3, 4),), ((5,),)], R, domain="distinct"),
        OpInfo("max_dim", lambda L, a: tuple(a.max(1)), [((2, 3, 4),), ((0, 3),), ((3, 1),)], R,
               domain="distinct"),
        OpInfo("max_dim_keep", lambda L, a: tuple(a.max(-1, keepdim=True)), R3, R, domain="distinct"),
        OpInfo("min_dim", lambda L, a: tuple(L.m.min(a, 0)), R3[:1] + [((3, 0),)], R, domain="distinct"),
        OpInfo("amax", lambda L, a: a.amax(1), R3[:1], R, domain="distinct"),
        OpInfo("argmax", lambda L, a: a.argmax(), [((3, 4),)], R, grad=False, domain="distinct"),
        OpInfo("argmax_dim", lambda L, a: a.argmax(1, keepdim=True), R3[:1], R, grad=False,
               domain="distinct"),
        OpInfo("argmin_dim", lambda L, a: a.argmin(0), R3[:1], R, grad=False, domain="distinct"),
        OpInfo("logsumexp", lambda L, a: a.logsumexp(1), R3, R),
        OpInfo("logsumexp_keep", lambda L, a: L.m.logsumexp(a, (0, 1), keepdim=True), R3[:1], R),
        OpInfo("logsumexp_big", lambda L, a: (a * 1e4).logsumexp(-1), [((3, 5),)], R, rtol32=1e-5),
        OpInfo("prod", lambda L, a: a.prod(), [((3, 4),), ((5,),)], R, domain=(0.5, 1.5)),
        OpInfo("prod_dim", lambda L, a: a.prod(1), R3, R, domain=(0.5, 1.5)),
        OpInfo("prod_zero", lambda L, a: (a * (a > 0)).prod(0, keepdim=True), [((4, 3),)], R),
        OpInfo("all", lambda L, a: (a > 0).all(), UN[:1], R, grad=False),
        OpInfo("all_dim", lambda L, a: (a > -1).all(1, keepdim=True), R3[:2], R, grad=False),
        OpInfo("any_dim", lambda L, a: (a > 1).any(0), R3[:2], R, grad=False),
        OpInfo("cumsum", lambda L, a: a.cumsum(1), R3, R),
        OpInfo("norm", lambda L, a: a.norm(), [((3, 4),)], R),
        OpInfo("softmax", lambda L, a: a.softmax(-1), R3 + [((5,),)], R),
        OpInfo("softmax_dim0", lambda L, a: L.F.softmax(a, 0), R3, R),
        OpInfo("log_softmax", lambda L, a: a.log_softmax(-1), R3 + [((5,),)], R),
        OpInfo("log_softmax_dim1", lambda L, a: L.F.log_softmax(a, dim=1), R3, R),
        OpInfo("softmax_1e4", lambda L, a: (a * 1e4).softmax(-1), [((3, 5),)], R),
        OpInfo("log_softmax_1e4", lambda L, a: (a * 1e4).log_softmax(-1), [((3, 5),)], R),
    ]

    S = "shape"
    ops += [
        OpInfo("reshape", lambda L, a: a.reshape(4, -1), [((2, 3, 4),), ((4, 0),), ((2, 2),)], S),
        OpInfo("view", lambda L, a: a.view(-1), [((2, 3),), ((0, 3),), ((),)], S),
        OpInfo("view_as", lambda L, a, b: a.view_as(b), [((2, 6), (3, 4))], S),
        OpInfo("transpose", lambda L, a: a.transpose(0, -1), [((2, 3, 4),), ((0, 3),), ((5,),)], S),
        OpInfo("T", lambda L, a: a.T, [((2, 3),), ((3,),)], S),
        OpInfo("mT", lambda L, a: a.mT, [((2, 3, 4),)], S),
        OpInfo("t", lambda L, a: a.t(), [((2, 3),), ((0, 2),)], S),
        OpInfo("permute", lambda L, a: a.permute(2, 0, 1), [((2, 3, 4),), ((0, 1, 3),)], S),
        OpInfo("flatten", lambda L, a: a.flatten(), [((2, 3, 4),), ((),), ((0, 3),)], S),
        OpInfo("flatten_mid", lambda L, a: a.flatten(1, 2), [((2, 3, 4, 2),), ((2, 0, 3),)], S),
        OpInfo("unflatten", lambda L, a: a.unflatten(1, (2, -1)), [((3, 6),)], S),
        OpInfo("squeeze", lambda L, a: a.squeeze(), [((2, 1, 3, 1),), ((1,),), ((0, 1),)], S),
        OpInfo("squeeze_dim", lambda L, a: a.squeeze(1), [((2, 1, 3),), ((2, 3),)], S),
        OpInfo("unsqueeze", lambda L, a: a.unsqueeze(-1), [((2, 3),), ((),), ((0,),)], S),
        OpInfo("unsqueeze0", lambda L, a: a.unsqueeze(0), [((2, 3),)], S),
        OpInfo("expand", lambda L, a: a.expand(2, 3, 4), [((3, 1),), ((1, 4),), ((4,),)], S),
        OpInfo("expand_neg", lambda L, a: a.expand(5, -1), [((1, 3),), ((1, 0),)], S),
        OpInfo("expand_as", lambda L, a, b: a.expand_as(b), [((3, 1), (2, 3, 4))], S),
        OpInfo("repeat", lambda L, a: a.repeat(2, 3), [((2, 3),), ((3,),), ((0, 2),)], S),
        OpInfo("repeat_more", lambda L, a: a.repeat(2, 1, 2), [((2, 3),)], S),
        OpInfo("cat", lambda L, a, b: L.m.cat([a, b], 1), [((2, 3), (2, 4)), ((0, 3), (0, 2)), ((2, 0), (2, 3))], S),
        OpInfo("cat0", lambda L, a, b, c: L.m.cat([a, b, c]), [((2, 3), (1, 3), (0, 3))], S),
        OpInfo("stack", lambda L, a, b: L.m.stack([a, b], -1), [((2, 3), (2, 3)), ((0,), (0,)), ((), ())], S),
        OpInfo("split", lambda L, a: a.split(2, 1), [((3, 5),), ((2, 4),)], S),
        OpInfo("split_sizes", lambda L, a: L.m.split(a, [1, 3, 1], 0), [((5, 2),)], S),
        OpInfo("chunk", lambda L, a: a.chunk(3, -1), [((2, 7),), ((2, 6),), ((3, 2),)], S),
        OpInfo("unbind", lambda L, a: a.unbind(1), [((2, 3),)], S),
        OpInfo("flip", lambda L, a: a.flip(0), [((3, 4),), ((0, 2),)], S),
        OpInfo("flip_dims", lambda L, a: a.flip((0, 2)), [((2, 3, 4),)], S),
        OpInfo("movedim", lambda L, a: a.movedim(0, -1), [((2, 3, 4),)], S),
        OpInfo("pad", lambda L, a: L.F.pad(a, (1, 2)), [((2, 3),), ((0, 3),), ((2, 0),)], S),
        OpInfo("pad_2d", lambda L, a: L.F.pad(a, (1, 0, 2, 1), value=1.5), [((1, 2, 3, 3),)], S),
        OpInfo("pad_neg", lambda L, a: L.F.pad(a, (-1, 2)), [((2, 4),)], S),
        OpInfo("pad_reflect", lambda L, a: L.F.pad(a, (2, 1), mode="reflect"), [((2, 3, 4),)], S),
        OpInfo("pad_reflect2d", lambda L, a: L.F.pad(a, (1, 1, 2, 1), mode="reflect"), [((1, 2, 3, 4),)], S),
        OpInfo("pad_replicate", lambda L, a: L.F.pad(a, (2, 3), mode="replicate"), [((2, 3, 4),)], S),
        OpInfo("pad_circular", lambda L, a: L.F.pad(a, (1, 2, 1, 0), mode="circular"), [((1, 2, 3, 4),)], S),
    ]

    I = "index"
    idx_rep = [0, 2, 0, 1, 2, 2]
    ops += [
        OpInfo("getitem_int", lambda L, a: a[1], [((3, 4),), ((3,),)], I),
        OpInfo("getitem_negint", lambda L, a: a[-1, 2], [((3, 4),)], I),
        OpInfo("getitem_slice", lambda L, a: a[1:, ::2], [((3, 4),), ((0, 4),)], I),
        OpInfo("getitem_none_ellipsis", lambda L, a: a[None, ..., 1:3, None], [((2, 3, 4),)], I),
        OpInfo("getitem_ellipsis_int", lambda L, a: a[..., 0], [((2, 3, 4),)], I),
        OpInfo("getitem_intarray_rep", lambda L, a: a[L.long(idx_rep)], [((3, 2),), ((3,),)], I),
        OpInfo("getitem_list", lambda L, a: a[[0, 0, 2]], [((3, 2),)], I),
        OpInfo("getitem_2arrays", lambda L, a: a[L.long([0, 1, 1, 0]), L.long([2, 0, 2, 2])], [((2, 3),)], I),
        OpInfo("getitem_mixed", lambda L, a: a[:, L.long([[1, 1], [0, 3]])], [((2, 4),)], I),
        OpInfo("getitem_array_slice_none", lambda L, a: a[L.long([1, 0, 1]), None, 1:], [((2, 3),)], I),
        OpInfo("getitem_bool", lambda L, a: a[a > 0], [((3, 4),), ((0, 3),)], I),
        OpInfo("getitem_bool_rows", lambda L, a: a[L.bool([True, False, True])], [((3, 2),)], I),
        OpInfo("gather", lambda L, a: a.gather(1, L.long([[0, 0], [1, 0], [2, 2]])), [((3, 3),)], I),
        OpInfo("gather_dim0", lambda L, a: L.m.gather(a, 0, L.long([[1, 0, 1], [1, 1, 0]])), [((2, 3),)], I),
        OpInfo("gather_small", lambda L, a: a.gather(1, L.long([[3], [0]])), [((3, 4),)], I),
        OpInfo("gather_empty", lambda L, a: a.gather(1, L.long(np.zeros((3, 0)))), [((3, 4),)], I),
        OpInfo("scatter_add", lambda L, a, s: a.scatter_add(1, L.long([[0, 0, 2], [1, 1, 1]]), s),
               [((2, 4), (2, 3)), ((2, 3), (2, 3))], I),
        OpInfo("scatter_add0", lambda L, a, s: L.m.scatter_add(a, 0, L.long([[0, 1], [0, 0], [1, 0]]), s),
               [((2, 2), (3, 2))], I),
        OpInfo("index_select", lambda L, a: a.index_select(0, L.long([2, 0, 2, 2])), [((3, 2),), ((3, 0),)], I),
        OpInfo("index_select1", lambda L, a: L.m.index_select(a, -1, L.long([1])), [((2, 3, 2),)], I),
        OpInfo("index_select_empty", lambda L, a: a.index_select(1, L.long(np.zeros(0))), [((2, 3),)], I),
        OpInfo("masked_fill", lambda L, a: a.masked_fill(a > 0.5, -2.0), [((3, 4),), ((0, 4),)], I),
        OpInfo("masked_fill_bcast", lambda L, a: a.masked_fill(L.bool([[True], [False]]), 0.0), [((2, 3),)], I),
        OpInfo("one_hot", lambda L, a: L.F.one_hot(L.long([[0, 2], [1, 1]]), 4) + 0 * (a > 0).long().sum(),
               [((1,),)], I, grad=False),
        OpInfo("one_hot_infer", lambda L, a: L.F.one_hot(L.long([3, 0, 1])), [((1,),)], I, grad=False),
    ]

    A = "linalg"
    ops += [
        OpInfo("matmul", lambda L, a, b: a @ b, [((3, 4), (4, 5)), ((0, 4), (4, 2)), ((3, 0), (0, 2))], A),
        OpInfo("matmul_batched", lambda L, a, b: L.m.matmul(a, b), [((2, 3, 4), (2, 4, 5))], A),
        OpInfo("matmul_bcast", lambda L, a, b: a @ b,
               [((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 1))], A),
        OpInfo("matmul_vec", lambda L, a, b: a @ b,
               [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3))], A),
        OpInfo("mm", lambda L, a, b: a.mm(b), [((2, 3), (3, 4))], A),
        OpInfo("bmm", lambda L, a, b: L.m.bmm(a, b), [((2, 3, 4), (2, 4, 1))], A),
        OpInfo("dot", lambda L, a, b: a.dot(b), [((5,), (5,))], A),
        OpInfo("outer", lambda L, a, b: L.m.outer(a, b), [((3,), (4,))], A),
        OpInfo("linear", lambda L, x, w, b: L.F.linear(x, w, b), [((2, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), (4,))], A),
        OpInfo("linear_nobias", lambda L, x, w: L.F.linear(x, w), [((2, 3), (4, 3))], A),
        OpInfo("einsum_mm", lambda L, a, b: L.m.einsum("ij,jk->ik", a, b), [((2, 3), (3, 4))], A),
        OpInfo("einsum_bmm", lambda L, a, b: L.m.einsum("bij,bjk->bik", a, b), [((2, 2, 3), (2, 3, 4))], A),
        OpInfo("einsum_implicit", lambda L, a, b: L.m.einsum("ij,kj", a, b), [((2, 3), (4, 3))], A),
        OpInfo("einsum_outer_sum", lambda L, a, b: L.m.einsum("i,j->", a, b), [((2,), (3,))], A),
        OpInfo("einsum_ellipsis", lambda L, a, b: L.m.einsum("...ij,...jk->...ik", a, b),
               [((2, 3, 4), (2, 4, 1)), ((3, 4), (4, 2))], A),
        OpInfo("einsum_three", lambda L, a, b, c: L.m.einsum("ij,jk,kl->il", a, b, c),
               [((2, 3), (3, 4), (4, 2))], A),
        OpInfo("einsum_trace", lambda L, a: L.m.einsum("ii->", a), [((3, 3),)], A),
        OpInfo("einsum_diag", lambda L, a: L.m.einsum("ii->i", a), [((3, 3),)], A),
        OpInfo("einsum_transpose", lambda L, a: L.m.einsum("ijk->kji", a), [((2, 3, 4),)], A),
        OpInfo("einsum_bcast", lambda L, a, b: L.m.einsum("bij,bjk->bik", a, b), [((1, 2, 3), (4, 3, 2))], A),
        OpInfo("einsum_empty", lambda L, a, b: L.m.einsum("ij,jk->ik", a, b), [((0, 3), (3, 4))], A),
    ]
    return ops


OPS = _ops()


def family(name):
    return [op for op in OPS if op.family == name]


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run_torch_parity(op, shapes, dtype):
    """Forward values/dtype/shape and input gradients of dalam vs PyTorch."""
    arrays = sample_arrays(op, shapes, dtype)
    ours_in = [dalam.tensor(a, requires_grad=op.grad) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=op.grad) for a in arrays]
    ours = _flat(op.fn(D, *ours_in))
    theirs = _flat(op.fn(T, *theirs_in))
    assert len(ours) == len(theirs), f"{op.name}: {len(ours)} outputs vs torch {len(theirs)}"
    if dtype == np.float32:
        rtol, atol = op.rtol32, op.atol32
    else:
        rtol, atol = 1e-10, 1e-12
    for k, (o, t) in enumerate(zip(ours, theirs)):
        tn = t.detach().numpy()
        assert isinstance(o, dalam.Tensor), f"{op.name}: output {k} is {type(o).__name__}"
        assert o.dtype == tn.dtype, f"{op.name}: output {k} dtype {o.dtype} vs torch {tn.dtype}"
        assert o.shape == tn.shape, f"{op.name}: output {k} shape {o.shape} vs torch {tn.shape}"
        np.testing.assert_allclose(o._data, tn, rtol=rtol, atol=atol, err_msg=f"{op.name} output {k}")
        assert o.requires_grad == t.requires_grad, \
            f"{op.name}: output {k} requires_grad {o.requires_grad} vs torch {t.requires_grad}"
    if not op.grad:
        return
    pairs = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(1)
    cots = [rng.standard_normal(t.shape).astype(t.detach().numpy().dtype) for _, t in pairs]
    g_ours = dalam.autograd.grad([o for o, _ in pairs], ours_in,
                                 grad_outputs=[dalam.tensor(c) for c in cots], allow_unused=True)
    g_theirs = torch.autograd.grad([t for _, t in pairs], theirs_in,
                                   grad_outputs=[torch.from_numpy(c) for c in cots], allow_unused=True)
    for k, (go, gt, a) in enumerate(zip(g_ours, g_theirs, arrays)):
        gt = np.zeros_like(a) if gt is None else gt.numpy()
        assert go is not None or not gt.any(), f"{op.name}: no gradient for input {k}"
        go = np.zeros_like(a) if go is None else go._data
        assert go.dtype == a.dtype, f"{op.name}: grad {k} dtype {go.dtype} vs input {a.dtype}"
        assert go.shape == a.shape, f"{op.name}: grad {k} shape {go.shape} vs input {a.shape}"
        np.testing.assert_allclose(go, gt, rtol=rtol, atol=atol * 10 if dtype == np.float32 else atol,
                                   err_msg=f"{op.name} grad of input {k}")


def run_gradcheck(op, shapes):
    arrays = sample_arrays(op, shapes, np.float64, seed=2)
    ins = [dalam.tensor(a, requires_grad=True) for a in arrays]
    assert dalam.autograd.gradcheck(lambda *xs: op.fn(D, *xs), ins)


def params(ops, with_grad_only=False):
    """pytest params (op, shapes) for a list of OpInfo entries, one per sample."""
    import pytest
    out = []
    for op in ops:
        if with_grad_only and not (op.grad and op.gradcheck):
            continue
        for k, shapes in enumerate(op.samples):
            out.append(pytest.param(op, shapes, id=f"{op.name}-{'x'.join(map(str, shapes)) or k}"))
    return out


def cases(fam, with_grad_only=False):
    """pytest params: (op, sample) for a family of the table above."""
    return params(family(fam), with_grad_only)
