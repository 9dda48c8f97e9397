"""Bugs the compatibility programs found in dalam, each pinned by a small test
against PyTorch."""
import numpy as np
import pytest

import dalam
import dalam.nn as nn

torch = pytest.importorskip("torch")


def test_inplace_leaky_relu_after_batchnorm_backward_matches_torch():
    # DCGAN's discriminator: BatchNorm -> LeakyReLU(0.2, inplace=True); dalam saved the input
    # and refused the in-place write ("modified in place after it was used")
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    outs = []
    for lib, mod in ((dalam, nn), (torch, torch.nn)):
        t = lib.tensor(x, requires_grad=True)
        net = mod.Sequential(mod.BatchNorm2d(3), mod.LeakyReLU(0.2, inplace=True))
        y = net(t)
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-4, atol=1e-5)


def test_inplace_leaky_relu_still_checks_later_writes():
    # the output LeakyReLU's backward reads is changed again: PyTorch raises too
    for lib, mod, match in ((dalam, nn, "modified in place"), (torch, torch.nn, "inplace operation")):
        x = lib.randn(6, requires_grad=True)
        y = mod.functional.leaky_relu(x * 1.0, 0.1, inplace=True)
        y.add_(1.0)
        with pytest.raises(RuntimeError, match=match):
            y.sum().backward()


def test_leaky_relu_double_backward_after_output_saving():
    x = dalam.tensor([-1.0, 0.5, 2.0], dtype=dalam.float64, requires_grad=True)
    assert dalam.autograd.gradcheck(lambda a: nn.functional.leaky_relu(a * 1.0, 0.2) ** 2, (x,))


@pytest.mark.parametrize("make", [lambda m: m.BatchNorm1d(4, bias=False), lambda m: m.BatchNorm2d(4, bias=False),
                                  lambda m: m.GroupNorm(2, 4, bias=False), lambda m: m.LayerNorm(4, bias=False),
                                  lambda m: m.BatchNorm2d(4), lambda m: m.GroupNorm(2, 4), lambda m: m.LayerNorm(4)])
def test_norm_layers_bias_argument_and_repr_as_torch_2_13(make):
    d, t = make(nn), make(torch.nn)
    assert repr(d) == repr(t)
    assert list(d.state_dict()) == list(t.state_dict())


def test_printed_losses_name_their_node_as_pytorch():
    # `print(loss)` is in most tutorials: tensor(2.3026, grad_fn=<NllLossBackward0>)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 2, 1, 0])
    names = []
    for lib, F in ((dalam, nn.functional), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        lin = (nn if lib is dalam else torch.nn).Linear(3, 3)
        outs = [F.cross_entropy(xt, lib.tensor(t)), F.mse_loss(xt, xt.detach() * 2), lin(xt), F.relu(xt),
                xt @ xt.T, F.binary_cross_entropy_with_logits(xt, lib.ones(4, 3))]
        names.append([repr(o).split("grad_fn=")[1] for o in outs])
    assert names[0] == names[1]


def test_multihead_attention_prints_as_pytorch():
    assert repr(nn.MultiheadAttention(4, 2)) == repr(torch.nn.MultiheadAttention(4, 2))


def test_runtime_names_modern_scripts_call():
    # nanoGPT-style scripts call these at the top; dalam run stopped on them
    dalam.set_float32_matmul_precision("high")
    assert dalam.get_float32_matmul_precision() == "high"
    dalam.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="expected 'highest'"):
        dalam.set_float32_matmul_precision("fast")
    from dalam.utils import data as dalam_data
    assert dalam_data.get_worker_info() is None and torch.utils.data.get_worker_info() is None


@pytest.mark.parametrize("make", [
    lambda m, t: m.ParameterList([m.Parameter(t.ones(2, 3)), m.Parameter(t.ones(1))]),
    lambda m, t: m.ParameterList([m.Parameter(t.ones(2))]),
    lambda m, t: m.ParameterDict({"a": m.Parameter(t.ones(2, 3))}),
    lambda m, t: m.RNNCell(3, 4, nonlinearity="relu"),
    lambda m, t: m.RNN(3, 4, nonlinearity="relu"),
    lambda m, t: m.Conv1d(2, 3, 3, padding="same"),
])
def test_module_reprs_as_pytorch(make):
    # `print(model)` output: found by printing every layer under dalam run next to PyTorch
    assert repr(make(nn, dalam)).replace("dalam.float32", "torch.float32") == repr(make(torch.nn, torch))


@pytest.mark.parametrize("name, kw", [("Adam", {}), ("AdamW", {}), ("SGD", {"lr": 0.1}), ("RMSprop", {}),
                                      ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("RAdam", {}),
                                      ("LBFGS", {})])
def test_optimizer_param_groups_and_repr_as_pytorch(name, kw):
    # print(optimizer) and state_dict()["param_groups"] hold PyTorch's keys and default values
    d = getattr(dalam.optim, name)([nn.Parameter(dalam.ones(2))], **kw)
    t = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)
    assert repr(d) == repr(t)
    assert sorted(d.param_groups[0]) == sorted(t.param_groups[0])
