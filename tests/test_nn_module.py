"""Module mechanics: registration, traversal, modes, state_dict, hooks, repr,
dtype conversion, against PyTorch's behaviour where it is observable."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from conftest import assert_close


class Net(nn.Module):
    def __init__(self, lib=nn):
        super().__init__()
        self.fc1 = lib.Linear(4, 8)
        self.act = lib.ReLU()
        self.blocks = lib.ModuleList([lib.Linear(8, 8) for _ in range(2)])
        self.head = lib.Sequential(lib.Linear(8, 3), lib.Tanh())
        self.register_buffer("scale", (dalam if lib is nn else torch).ones(3))
        self.register_buffer("tmp", (dalam if lib is nn else torch).zeros(2), persistent=False)

    def forward(self, x):
        x = self.act(self.fc1(x))
        for b in self.blocks:
            x = self.act(b(x))
        return self.head(x) * self.scale


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.act = torch.nn.ReLU()
        self.blocks = torch.nn.ModuleList([torch.nn.Linear(8, 8) for _ in range(2)])
        self.head = torch.nn.Sequential(torch.nn.Linear(8, 3), torch.nn.Tanh())
        self.register_buffer("scale", torch.ones(3))
        self.register_buffer("tmp", torch.zeros(2), persistent=False)

    def forward(self, x):
        x = self.act(self.fc1(x))
        for b in self.blocks:
            x = self.act(b(x))
        return self.head(x) * self.scale


def test_registration_and_traversal_match_torch():
    m, t = Net(), TNet()
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert len(list(m.children())) == 4 and len(list(m.modules())) == 9


def test_state_dict_round_trip_with_torch_both_ways():
    m, t = Net(), TNet()
    with torch.no_grad():
        t.scale.mul_(2.0)
    res = m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_close(m(dalam.tensor(x)), t(torch.tensor(x)))
    # and back: dalam -> numpy -> torch
    m2 = Net()
    t2 = TNet()
    t2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m2.state_dict().items()})
    assert_close(m2(dalam.tensor(x)), t2(torch.tensor(x)))


def test_state_dict_shares_memory_and_detaches():
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    assert np.shares_memory(sd["weight"]._data, m.weight._data)
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_state_dict_converts_dtype_in_place_and_keeps_identity():
    m = nn.Linear(3, 2)
    w_obj = m.weight
    sd = {"weight": np.ones((2, 3), np.float64), "bias": np.zeros(2, np.float64)}
    m.load_state_dict(sd)
    assert m.weight is w_obj and m.weight.dtype == np.float32
    assert (m.weight._data == 1).all()


def test_load_state_dict_errors_list_everything():
    m = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    sd = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).state_dict()
    sd.pop("2.bias")
    sd["extra.weight"] = dalam.zeros(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for 0.weight: copying a param with shape (3, 4)" in msg
    assert "the shape in current model is (5, 4)" in msg
    assert "size mismatch for 2.weight" in msg


def test_load_state_dict_non_strict_reports_keys():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    sd = {k: v for k, v in nn.Sequential(nn.Linear(2, 2)).state_dict().items()}
    sd["junk"] = dalam.zeros(1)
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["1.weight", "1.bias"]
    assert res.unexpected_keys == ["junk"]
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"


def test_buffers_persistent_and_assignment():
    m = Net()
    assert "tmp" not in m.state_dict() and "scale" in m.state_dict()
    assert [n for n, _ in m.named_buffers()] == ["scale", "tmp"]
    m.scale = dalam.full((3,), 2.0)  # re-assigning a buffer keeps it a buffer
    assert "scale" in dict(m.named_buffers()) and m.state_dict()["scale"]._data[0] == 2
    m.newbuf = nn.Buffer(dalam.zeros(2), persistent=False)
    assert "newbuf" in dict(m.named_buffers()) and "newbuf" not in m.state_dict()
    with pytest.raises(TypeError, match="buffer"):
        m.scale = [1, 2, 3]


def test_setattr_rules():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = dalam.zeros(2, 2)
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    m.extra = nn.Parameter(dalam.zeros(1))
    assert "extra" in m.state_dict()
    del m.extra
    assert "extra" not in m.state_dict()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope

    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_shared_parameters_counted_once():
    a = nn.Linear(3, 3)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_propagates():
    m = Net()
    assert m.training and m.blocks[0].training
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError):
        m.train("yes")


def test_zero_grad_and_requires_grad():
    m = Net()
    m(dalam.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all((p.grad._data == 0).all() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    m = Net()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"

    def init(mod):
        if isinstance(mod, nn.Linear):
            nn.init.zeros_(mod.bias)
    m.apply(init)
    assert all((mm.bias._data == 0).all() for mm in m.modules() if isinstance(mm, nn.Linear))


def test_to_dtype_keeps_parameter_objects():
    m = Net()
    params = list(m.parameters())
    m(dalam.randn(2, 4)).sum().backward()
    m.double()
    assert all(p is q for p, q in zip(m.parameters(), params))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in m.parameters())
    assert m.scale.dtype == np.float64
    out = m(dalam.randn(2, 4, dtype=dalam.float64))
    assert out.dtype == np.float64
    m.to(dalam.float32)
    assert all(p.dtype == np.float32 for p in m.parameters())
    with pytest.raises(TypeError, match="floating point"):
        m.to(dalam.int64)


def test_forward_hooks():
    m = Net()
    feats = {}
    h = m.fc1.register_forward_hook(lambda mod, inp, out: feats.__setitem__("fc1", out))
    x = dalam.randn(2, 4)
    m(x)
    assert feats["fc1"].shape == (2, 8)
    h.remove()
    feats.clear()
    m(x)
    assert feats == {}
    # a pre-hook may replace the input, a hook the output
    m.head.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    y = m(x)
    expected = m.head[1](m.head[0].bias.detach().reshape(1, 3)) * m.scale
    assert np.allclose(y._data, expected._data)
    m.register_forward_hook(lambda mod, args, out: out + 1)
    assert np.allclose(m(x)._data, expected._data + 1)


def test_forward_hook_with_kwargs():
    m = nn.Linear(2, 2)
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(kwargs) or None,
                                with_kwargs=True)
    m(input=dalam.randn(1, 2))
    assert "input" in seen[0]


def test_missing_forward_error():
    class NoForward(nn.Module):
        pass
    with pytest.raises(RuntimeError, match='missing the required "forward" function'):
        NoForward()(dalam.zeros(1))


def test_repr_matches_torch():
    m, t = Net(), TNet()
    assert repr(m).replace("Net(", "X(") == repr(t).replace("TNet(", "X(")
    for ours, theirs in [(nn.Dropout(0.2), torch.nn.Dropout(0.2)),
                         (nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
                         (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
                         (nn.GELU("tanh"), torch.nn.GELU("tanh")),
                         (nn.Flatten(), torch.nn.Flatten()),
                         (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
                         (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                         (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)),
                         (nn.Unflatten(1, (2, 5)), torch.nn.Unflatten(1, (2, 5))),
                         (nn.Hardtanh(-2.0, 2.0), torch.nn.Hardtanh(-2.0, 2.0))]:
        assert repr(ours) == repr(theirs)
    assert repr(nn.Parameter(dalam.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_parameter_semantics():
    a = dalam.zeros(3)
    p = nn.Parameter(a)
    assert p.requires_grad and isinstance(p, dalam.Tensor)
    assert np.shares_memory(p._data, a._data)
    assert type(p * 2) is dalam.Tensor
    assert not nn.Parameter(dalam.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(dalam.tensor([1, 2]))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q is not p and not np.shares_memory(q._data, p._data)


def test_deepcopy_module_is_independent():
    m = Net()
    c = copy.deepcopy(m)
    assert list(c.state_dict()) == list(m.state_dict())
    with dalam.no_grad():
        c.fc1.weight._data[...] = 0
    assert not (m.fc1.weight._data == 0).all()
    assert c.fc1._parameters["weight"] is c.fc1.weight


def test_get_submodule_and_parameter():
    m = Net()
    assert m.get_submodule("blocks.1") is m.blocks[1]
    assert m.get_parameter("head.0.bias") is m.head[0].bias
    assert m.get_buffer("scale") is m.scale
    with pytest.raises(AttributeError):
        m.get_submodule("blocks.7")


def test_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear)
    sub = s[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is s[0]
    s.append(nn.Sigmoid())
    assert list(s.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    del s[1]
    assert [type(x).__name__ for x in s] == ["Linear", "Linear", "Sigmoid"]
    assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(od.state_dict()) == ["fc.weight", "fc.bias"] and od.act is od[1]
    with pytest.raises(IndexError, match="out of range"):
        s[5]

    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Identity())
    assert [type(x).__name__ for x in ml] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert list(ml.state_dict()) == ["1.weight", "1.bias"]
    with pytest.raises(RuntimeError, match="no forward"):
        ml(dalam.zeros(1))

    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(md) == 2
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    tmd = torch.nn.ModuleDict({"a": torch.nn.Linear(1, 2), "b": torch.nn.ReLU()})
    assert repr(md) == repr(tmd)

    pl = nn.ParameterList([nn.Parameter(dalam.zeros(2)), dalam.ones(3)])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"x": nn.Parameter(dalam.zeros(1))})
    assert list(pd.state_dict()) == ["x"]


def test_plain_list_hides_parameters_but_modulelist_registers():
    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]
    assert list(Hidden().parameters()) == []


def test_full_backward_hooks_match_torch():
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    got, ref = {}, {}
    ours[1].register_full_backward_hook(lambda m, gi, go: got.update(gi=gi, go=go))
    theirs[1].register_full_backward_hook(lambda m, gi, go: ref.update(gi=gi, go=go))
    # a hook may replace grad_input: here it doubles the gradient flowing into layer 1
    ours[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    theirs[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    pre = []
    ours[2].register_full_backward_pre_hook(lambda m, go: pre.append(go[0].shape))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    xa, xb = dalam.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xa).sum().backward()
    theirs(xb).sum().backward()
    assert_close(got["gi"][0], ref["gi"][0])
    assert_close(got["go"][0], ref["go"][0])
    assert_close(xa.grad, xb.grad)
    assert_close(ours[0].weight.grad, theirs[0].weight.grad)
    assert pre == [(5, 2)]


def test_backward_hook_without_input_grad_and_removal():
    m = nn.Linear(3, 2)
    seen = []
    h = m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m(dalam.randn(4, 3)).sum().backward()  # the input needs no grad: grad_input is (None,)
    assert seen == [((None,), (4, 2))]
    h.remove()
    assert not m._any_hooks
    m(dalam.randn(4, 3)).sum().backward()
    assert len(seen) == 1
    with dalam.no_grad():
        m.register_full_backward_hook(lambda *a: seen.append(a))
        m(dalam.randn(1, 3))
    assert len(seen) == 1


def test_state_dict_through_safetensors_files_both_ways(tmp_path):
    """A torch checkpoint (safetensors) loads into the same dalam model and vice versa."""
    from safetensors.numpy import load_file as np_load, save_file as np_save
    from safetensors.torch import load_file as t_load, save_file as t_save
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    t = TNet()
    t_save(t.state_dict(), str(tmp_path / "torch.safetensors"))
    m = Net()
    m.load_state_dict(np_load(str(tmp_path / "torch.safetensors")))
    assert_close(m(dalam.tensor(x)), t(torch.tensor(x)))
    m2 = Net()
    np_save({k: np.ascontiguousarray(v.numpy()) for k, v in m2.state_dict().items()},
            str(tmp_path / "dalam.safetensors"))
    t2 = TNet()
    t2.load_state_dict(t_load(str(tmp_path / "dalam.safetensors")))
    assert_close(m2(dalam.tensor(x)), t2(torch.tensor(x)))


def test_train_calls_each_childs_own_train():
    class Frozen(nn.Module):
        def train(self, mode=True):  # e.g. a backbone kept in eval mode while fine-tuning
            return super().train(False)

        def forward(self, x):
            return x
    m = nn.Sequential(nn.Linear(2, 2), Frozen(), nn.Dropout())
    m.train()
    assert m.training and m[0].training and not m[1].training and m[2].training
