"""``autograd.Function`` written PyTorch's way (staticmethod forward/backward
with a ctx), checked against torch: values, gradients, double backward, ctx
features; dalam's own array-style Function keeps working beside it."""
import numpy as np
import pytest
import torch

import dalam
from dalam.autograd import gradcheck


def _libs():
    return [(dalam, dalam.autograd.Function, dalam.autograd.once_differentiable),
            (torch, torch.autograd.Function, torch.autograd.function.once_differentiable)]


def _defs(L, Function, once_differentiable):
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y

    class ScaledMul(Function):  # two tensors and a non-tensor argument
        @staticmethod
        def forward(ctx, a, b, alpha):
            ctx.save_for_backward(a, b)
            ctx.alpha = alpha
            return alpha * a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.alpha if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.alpha if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class SplitSum(Function):  # two outputs; PyTorch 2's separate setup_context
        @staticmethod
        def forward(x):
            return x.sum(0), (x * x).sum(0)

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1.unsqueeze(0) + 2 * x * g2.unsqueeze(0)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

    class ArgmaxAndValue(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(1)
            val = x.max(1)[0]
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return val, idx

        @staticmethod
        def backward(ctx, gv, gi):
            x, idx = ctx.saved_tensors
            g = L.zeros_like(x)
            g[L.arange(x.shape[0]), idx] = gv
            return g

    class Clamp01NoGrad(Function):
        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ((x > 0) & (x < 1)).to(g.dtype)

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(0, 1)

    class MulInplace(Function):
        @staticmethod
        def forward(ctx, x, k):
            x.mul_(k)
            ctx.mark_dirty(x)
            ctx.k = k
            return x

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    class NoMaterialize(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            out = 0
            if g1 is not None:
                out = out + 2 * g1
            if g2 is not None:
                out = out + 3 * g2
            return out

    return dict(Exp=Exp, ScaledMul=ScaledMul, SplitSum=SplitSum, ArgmaxAndValue=ArgmaxAndValue,
                Clamp01NoGrad=Clamp01NoGrad, MulInplace=MulInplace, NoMaterialize=NoMaterialize)


D = _defs(*_libs()[0])
T = _defs(*_libs()[1])
A = np.random.default_rng(0).standard_normal((3, 4))
B = np.random.default_rng(1).standard_normal((3, 4))


def _pair(a, dtype=np.float64):
    a = a.astype(dtype)
    return dalam.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_backward_match_torch(dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    cases = [("Exp", lambda F, L, x, y: F.apply(x).sum()),
             ("ScaledMul", lambda F, L, x, y: (F.apply(x, y, 2.5) ** 2).sum()),
             ("SplitSum", lambda F, L, x, y: F.apply(x)[0].sum() + F.apply(x)[1].mean()),
             ("ArgmaxAndValue", lambda F, L, x, y: (F.apply(x)[0] ** 2).sum()),
             ("Clamp01NoGrad", lambda F, L, x, y: (F.apply(x) * y).sum())]
    for name, f in cases:
        x, tx = _pair(A, dtype)
        y, ty = _pair(B, dtype)
        lo, lt = f(D[name], dalam, x, y), f(T[name], torch, tx, ty)
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=rtol, err_msg=name)
        lo.backward()
        lt.backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-7, err_msg=name)
        if y.grad is not None or ty.grad is not None:
            np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=rtol, atol=1e-7)


def test_gradcheck_float64():
    x = dalam.tensor(A, requires_grad=True)
    y = dalam.tensor(B, requires_grad=True)
    assert gradcheck(lambda a: D["Exp"].apply(a), [x])
    assert gradcheck(lambda a, b: D["ScaledMul"].apply(a, b, -1.5), [x, y])
    assert gradcheck(lambda a: D["SplitSum"].apply(a), [x])


def test_double_backward_through_tensor_backward_matches_torch():
    x, tx = _pair(A[0])
    g, = dalam.autograd.grad(D["Exp"].apply(x * 2).sum(), x, create_graph=True)
    tg, = torch.autograd.grad(T["Exp"].apply(tx * 2).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    gg, = dalam.autograd.grad((g ** 2).sum(), x)
    tgg, = torch.autograd.grad((tg ** 2).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12)
    # hessian-vector style through a two-input Function
    x, tx = _pair(A[0])
    y, ty = _pair(B[0])
    g = dalam.autograd.grad(D["ScaledMul"].apply(x, y, 3.0).sum(), [x, y], create_graph=True)
    tg = torch.autograd.grad(T["ScaledMul"].apply(tx, ty, 3.0).sum(), [tx, ty], create_graph=True)
    h = dalam.autograd.grad((g[0] * g[1]).sum(), [x, y])
    th = torch.autograd.grad((tg[0] * tg[1]).sum(), [tx, ty])
    for a, b in zip(h, th):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_once_differentiable_refuses_double_backward():
    x, _ = _pair(A[0])
    g, = dalam.autograd.grad((D["Clamp01NoGrad"].apply(x) ** 2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_needs_input_grad_and_non_tensor_args():
    seen = {}
    for L, Function, _ in _libs():
        class Probe(Function):
            @staticmethod
            def forward(ctx, a, b, flag):
                seen[L.__name__] = tuple(ctx.needs_input_grad)
                return a + b

            @staticmethod
            def backward(ctx, g):
                return g, None, None
        a = L.ones(2, requires_grad=True)
        Probe.apply(a, L.ones(2), "x").sum().backward()
        assert a.grad.tolist() == [1.0, 1.0]
    assert seen["dalam"] == seen["torch"] == (True, False, False)


def test_mark_non_differentiable_output():
    for name, L in (("d", dalam), ("t", torch)):
        F = (D if name == "d" else T)["ArgmaxAndValue"]
        x = L.tensor(A, requires_grad=True)
        val, idx = F.apply(x)
        assert val.requires_grad and not idx.requires_grad
        assert idx.dtype == (np.int64 if name == "d" else torch.int64)


def test_mark_dirty_rebases_the_input():
    outs = []
    for L, F in ((dalam, D["MulInplace"]), (torch, T["MulInplace"])):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = F.apply(h, 3.0)
        assert y is h
        (y * y).sum().backward()
        outs.append(x.grad.tolist())
        with pytest.raises(RuntimeError):
            F.apply(x, 2.0)  # a leaf that requires grad cannot be modified in place
    assert outs[0] == outs[1]


def test_set_materialize_grads_false_passes_none():
    for L, F in ((dalam, D["NoMaterialize"]), (torch, T["NoMaterialize"])):
        x = L.ones(2, requires_grad=True)
        a, b = F.apply(x)
        a.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]
        assert a.grad_fn.seen == (False, True)
    # materialised (default): the unused output's gradient arrives as zeros
    x = dalam.tensor(A, requires_grad=True)
    s1, s2 = D["SplitSum"].apply(x)
    s1.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(A))


def test_errors_are_clear():
    class WrongCount(dalam.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = dalam.ones(2, requires_grad=True), dalam.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 1 gradients, but forward took 2"):
        WrongCount.apply(a, b).sum().backward()

    class BadShape(dalam.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return dalam.ones(5)

    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        BadShape.apply(dalam.ones(2, requires_grad=True)).sum().backward()

    class Saved(dalam.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a

    h = dalam.ones(2, requires_grad=True) * 1
    out = Saved.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


def test_no_graph_under_no_grad_and_array_style_still_works():
    x = dalam.tensor(A, requires_grad=True)
    with dalam.no_grad():
        y = D["Exp"].apply(x)
    assert not y.requires_grad and y.grad_fn is None

    class Square(dalam.autograd.Function):  # dalam's own array style
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, g):
            return 2 * self.a * g

    z = Square.apply(x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * A)


def test_custom_function_in_a_training_loop():
    """A tutorial-style custom ReLU inside an MLP, trained a few SGD steps, as in torch."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    W1, W2 = rng.standard_normal((3, 8)) * 0.5, rng.standard_normal((8, 1)) * 0.5
    losses = []
    for L, Function in ((dalam, dalam.autograd.Function), (torch, torch.autograd.Function)):
        class MyReLU(Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return input.clamp(min=0)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                grad_input = grad_output.clone()
                grad_input[input < 0] = 0
                return grad_input
        w1 = L.tensor(W1, requires_grad=True)
        w2 = L.tensor(W2, requires_grad=True)
        x, y = L.tensor(X), L.tensor(Y)
        run = []
        for _ in range(5):
            loss = (MyReLU.apply(x @ w1) @ w2 - y).pow(2).sum()
            loss.backward()
            with L.no_grad():
                w1 -= 1e-2 * w1.grad
                w2 -= 1e-2 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
