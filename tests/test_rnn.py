"""Recurrent layers and cells: fused ops and nn modules vs PyTorch (outputs,
final states, every gradient), float64 gradcheck, variable lengths, errors."""
import numpy as np
import pytest
import torch

import dalam
from dalam.autograd import gradcheck
from dalam.ops import recurrent as R
from conftest import assert_close

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
TORCH_CLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN,
             "rnn_relu": torch.nn.RNN}


def _leaf(a):
    t = dalam.tensor(a)
    t.requires_grad_(True)
    return t


def _layer_inputs(mode, T, B, I, H, dtype, rng):
    G = GATES[mode] * H
    arrs = [rng.standard_normal((T, B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H)),
            rng.standard_normal((G, I)) * 0.4, rng.standard_normal((G, H)) * 0.4,
            rng.standard_normal(G) * 0.3, rng.standard_normal(G) * 0.3]
    return [a.astype(dtype) for a in arrs]


def _run_layer(mode, ts, lengths, reverse):
    x, h0, c0, wi, wh, bi, bh = ts
    if mode == "lstm":
        return R.lstm_layer(x, h0, c0, wi, wh, bi, bh, lengths=lengths, reverse=reverse)
    if mode == "gru":
        return R.gru_layer(x, h0, wi, wh, bi, bh, lengths=lengths, reverse=reverse)
    return R.rnn_layer(x, h0, wi, wh, bi, bh, lengths=lengths, reverse=reverse,
                       nonlinearity=mode[4:])


def _torch_layer(mode, arrs, lengths, reverse):
    """The same layer through torch.nn (the reverse half of a bidirectional one)."""
    x, h0, c0, wi, wh, bi, bh = [torch.tensor(a, requires_grad=True) for a in arrs]
    T, B, I = x.shape
    H = h0.shape[1]
    kw = {"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}
    m = TORCH_CLS[mode](I, H, bidirectional=reverse, **kw).to(x.dtype)
    sfx = "_reverse" if reverse else ""
    with torch.no_grad():
        for n, a in zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], [wi, wh, bi, bh]):
            getattr(m, f"{n}_l0{sfx}").copy_(a)
    nd = 2 if reverse else 1
    z = torch.zeros(nd - 1, B, H, dtype=x.dtype)
    hh = torch.cat([z, h0[None]]) if reverse else h0[None]
    cc = torch.cat([z, c0[None]]) if reverse else c0[None]
    inp = x
    if lengths is not None:
        inp = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    out, st = m(inp, (hh, cc) if mode == "lstm" else hh)
    if lengths is not None:
        out = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)[0]
    out = out[..., (nd - 1) * H:]
    outs = [out, st[0][nd - 1], st[1][nd - 1]] if mode == "lstm" else [out, st[nd - 1]]
    grads_of = [x, h0, c0] + [getattr(m, f"{n}_l0{sfx}") for n in
                              ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]]
    return outs, grads_of


@pytest.mark.parametrize("mode", list(GATES))
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_layer_matches_torch_float32(mode, reverse, with_lengths):
    rng = np.random.default_rng(1)
    T, B, I, H = 6, 3, 5, 7
    arrs = _layer_inputs(mode, T, B, I, H, np.float32, rng)
    lengths = np.array([6, 2, 4]) if with_lengths else None
    ts = [_leaf(a) for a in arrs]
    outs = _run_layer(mode, ts, lengths, reverse)
    cots = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
    sum((o * dalam.tensor(c)).sum() for o, c in zip(outs, cots)).backward()
    touts, tgrad_of = _torch_layer(mode, arrs, lengths, reverse)
    sum((o * torch.tensor(c)).sum() for o, c in zip(touts, cots)).backward()
    for k, (o, to) in enumerate(zip(outs, touts)):
        assert o.dtype == np.float32
        assert_close(o, to, rtol=1e-5, atol=1e-6, msg=f"{mode} output {k}")
    idx = [0, 1, 2, 3, 4, 5, 6] if mode == "lstm" else [0, 1, 3, 4, 5, 6]
    for i in idx:
        assert ts[i].grad.dtype == np.float32
        assert_close(ts[i].grad, tgrad_of[i].grad, rtol=1e-5, atol=1e-6, msg=f"{mode} grad {i}")
    if with_lengths:  # outputs past each length are exactly zero, as pad_packed_sequence gives
        assert np.all(outs[0]._data[2:, 1] == 0) and np.all(outs[0]._data[4:, 2] == 0)


@pytest.mark.parametrize("mode", list(GATES))
def test_layer_gradcheck_float64(mode):
    rng = np.random.default_rng(2)
    arrs = _layer_inputs(mode, 3, 2, 3, 2, np.float64, rng)
    ts = [_leaf(a) for a in arrs]
    if mode != "lstm":
        ts[2] = dalam.tensor(arrs[2])  # GRU/RNN have no cell state
    for reverse, lengths in [(False, None), (True, np.array([3, 2]))]:
        assert gradcheck(lambda *a: _run_layer(mode, a, lengths, reverse), ts)


@pytest.mark.parametrize("mode", list(GATES))
def test_layer_without_bias_and_no_grad_inputs(mode):
    rng = np.random.default_rng(3)
    arrs = _layer_inputs(mode, 4, 2, 3, 5, np.float64, rng)
    ts = [dalam.tensor(arrs[0]), dalam.tensor(arrs[1]), dalam.tensor(arrs[2]),
          _leaf(arrs[3]), _leaf(arrs[4]), None, None]
    assert gradcheck(lambda *a: _run_layer(mode, a, None, False), ts)


def test_workspace_reuse_keeps_results_identical():
    """Arrays handed back to the workspace after backward must not leak into later results."""
    rng = np.random.default_rng(4)
    arrs = _layer_inputs("lstm", 5, 2, 3, 4, np.float32, rng)
    res = []
    for _ in range(3):
        ts = [_leaf(a) for a in arrs]
        out, h, c = _run_layer("lstm", ts, None, False)
        (out.sum() + c.sum()).backward()
        res.append([out._data.copy(), ts[4].grad._data.copy()])
        with dalam.no_grad():
            _run_layer("lstm", [dalam.tensor(a) for a in arrs], None, True)
    for r in res[1:]:
        np.testing.assert_array_equal(r[0], res[0][0])
        np.testing.assert_array_equal(r[1], res[0][1])


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_cell_ops_match_torch(mode):
    rng = np.random.default_rng(5)
    B, I, H = 3, 4, 5
    arrs = _layer_inputs(mode, 1, B, I, H, np.float32, rng)
    arrs[0] = arrs[0][0]
    ts = [_leaf(a) for a in arrs]
    x, h, c, wi, wh, bi, bh = ts
    if mode == "lstm":
        outs = R.lstm_cell(x, h, c, wi, wh, bi, bh)
        tc = torch.nn.LSTMCell(I, H)
    elif mode == "gru":
        outs = (R.gru_cell(x, h, wi, wh, bi, bh),)
        tc = torch.nn.GRUCell(I, H)
    else:
        outs = (R.rnn_cell(x, h, wi, wh, bi, bh, nonlinearity=mode[4:]),)
        tc = torch.nn.RNNCell(I, H, nonlinearity=mode[4:])
    tt = [torch.tensor(a, requires_grad=True) for a in arrs]
    with torch.no_grad():
        for n, a in zip(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], arrs[3:]):
            getattr(tc, n).copy_(torch.tensor(a))
    touts = tc(tt[0], (tt[1], tt[2])) if mode == "lstm" else (tc(tt[0], tt[1]),)
    cots = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
    sum((o * dalam.tensor(c_)).sum() for o, c_ in zip(outs, cots)).backward()
    sum((o * torch.tensor(c_)).sum() for o, c_ in zip(touts, cots)).backward()
    for o, to in zip(outs, touts):
        assert_close(o, to)
    for ours, theirs in [(x, tt[0]), (h, tt[1]), (wi, tc.weight_ih), (wh, tc.weight_hh),
                         (bi, tc.bias_ih), (bh, tc.bias_hh)]:
        assert_close(ours.grad, theirs.grad, rtol=1e-5, atol=1e-6)
    if mode == "lstm":
        assert_close(c.grad, tt[2].grad, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- modules
MODULES = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"})]


def _pair(name, kw, *args, **kwargs):
    m = getattr(dalam.nn, name)(*args, **kw, **kwargs)
    tm = getattr(torch.nn, name)(*args, **kw, **kwargs)
    sd = m.state_dict()
    assert list(sd) == list(tm.state_dict()), "parameter names/order differ from PyTorch"
    tm.load_state_dict({k: torch.tensor(v._data) for k, v in sd.items()})
    return m, tm


@pytest.mark.parametrize("name,kw", MODULES)
@pytest.mark.parametrize("bidirectional,batch_first", [(False, False), (True, True), (True, False)])
def test_module_matches_torch(name, kw, bidirectional, batch_first):
    rng = np.random.default_rng(6)
    m, tm = _pair(name, kw, 5, 7, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    D = 2 if bidirectional else 1
    x = rng.standard_normal((3, 6, 5) if batch_first else (6, 3, 5)).astype(np.float32)
    h0 = rng.standard_normal((2 * D, 3, 7)).astype(np.float32)
    c0 = rng.standard_normal((2 * D, 3, 7)).astype(np.float32)
    xd, hd, cd = _leaf(x), _leaf(h0), _leaf(c0)
    xt, ht, ct = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    if name == "LSTM":
        o, (h, c) = m(xd, (hd, cd))
        to, (th, tc) = tm(xt, (ht, ct))
        outs, touts = [o, h, c], [to, th, tc]
    else:
        o, h = m(xd, hd)
        to, th = tm(xt, ht)
        outs, touts = [o, h], [to, th]
    cots = [rng.standard_normal(a.shape).astype(np.float32) for a in outs]
    sum((a * dalam.tensor(c_)).sum() for a, c_ in zip(outs, cots)).backward()
    sum((a * torch.tensor(c_)).sum() for a, c_ in zip(touts, cots)).backward()
    for a, b in zip(outs, touts):
        assert_close(a, b, rtol=1e-5, atol=1e-6)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=1e-6, msg=n)
    assert_close(xd.grad, xt.grad, rtol=1e-5, atol=1e-6)
    assert_close(hd.grad, ht.grad, rtol=1e-5, atol=1e-6)
    if name == "LSTM":
        assert_close(cd.grad, ct.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kw", MODULES[:3])
def test_module_default_state_unbatched_and_no_bias(name, kw):
    rng = np.random.default_rng(7)
    m, tm = _pair(name, kw, 4, 3, bias=False)
    x = rng.standard_normal((5, 4)).astype(np.float32)           # unbatched (T, I)
    out, st = m(dalam.tensor(x))
    tout, tst = tm(torch.tensor(x))
    assert_close(out, tout)
    if name == "LSTM":
        assert_close(st[0], tst[0])
        assert_close(st[1], tst[1])
    else:
        assert_close(st, tst)


@pytest.mark.parametrize("name,kw", MODULES[:3])
def test_module_packed_sequence_matches_torch(name, kw):
    from dalam.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    rng = np.random.default_rng(8)
    m, tm = _pair(name, kw, 5, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((6, 3, 5)).astype(np.float32)
    lengths = [4, 6, 2]
    xd, xt = _leaf(x), torch.tensor(x, requires_grad=True)
    out, st = m(pack_padded_sequence(xd, lengths, enforce_sorted=False))
    tout, tst = tm(torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                           enforce_sorted=False))
    assert_close(out.data._data, tout.data)
    np.testing.assert_array_equal(out.batch_sizes._data, tout.batch_sizes.numpy())
    hd, ht = (st[0], tst[0]) if name == "LSTM" else (st, tst)
    assert_close(hd, ht)
    pd, ld = pad_packed_sequence(out, batch_first=True)
    pt, lt = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=True)
    assert_close(pd, pt)
    np.testing.assert_array_equal(ld._data, lt.numpy())
    cot = rng.standard_normal(pd.shape).astype(np.float32)
    ((pd * dalam.tensor(cot)).sum() + hd.sum()).backward()
    ((pt * torch.tensor(cot)).sum() + ht.sum()).backward()
    assert_close(xd.grad, xt.grad, rtol=1e-5, atol=1e-6)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp.grad, rtol=1e-5, atol=1e-6, msg=n)


def test_module_gradcheck_float64_two_layers_bidirectional():
    for name in ["LSTM", "GRU", "RNN"]:
        m = getattr(dalam.nn, name)(2, 2, num_layers=2, bidirectional=True).double()
        x = _leaf(np.random.default_rng(9).standard_normal((3, 2, 2)))
        params = list(m.parameters())

        def f(x, *ps):
            out = m(x)
            return out[0]
        assert gradcheck(f, [x] + params[:4] + params[-2:])


def test_dropout_between_layers_train_and_eval():
    dalam.manual_seed(0)
    m = dalam.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = dalam.randn(5, 2, 3)
    m.train()
    a, b = m(x)[0]._data, m(x)[0]._data
    assert not np.allclose(a, b)          # different dropout masks
    m.eval()
    np.testing.assert_array_equal(m(x)[0]._data, m(x)[0]._data)


def test_init_range_and_names():
    m = dalam.nn.GRU(10, 16, num_layers=2, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "weight_hh_l1_reverse" in names and m.weight_ih_l1.shape == (48, 32)
    k = 1 / np.sqrt(16)
    for p in m.parameters():
        assert p.dtype == np.float32 and np.abs(p._data).max() <= k
        assert np.abs(p._data).max() > 0.8 * k


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_modules_match_torch(name):
    rng = np.random.default_rng(10)
    c, tc = getattr(dalam.nn, name)(4, 3), getattr(torch.nn, name)(4, 3)
    tc.load_state_dict({k: torch.tensor(v._data) for k, v in c.state_dict().items()})
    x = rng.standard_normal((2, 4)).astype(np.float32)
    xd, xt = _leaf(x), torch.tensor(x, requires_grad=True)
    # two steps from the default zero state: gradients flow through the state
    s, ts = c(xd), tc(xt)
    s = c(xd, s)
    ts = tc(xt, ts)
    o, to = (s[0], ts[0]) if name == "LSTMCell" else (s, ts)
    assert_close(o, to)
    (o * o).sum().backward()
    (to * to).sum().backward()
    assert_close(xd.grad, xt.grad)
    for (n, p), (_, tp) in zip(c.named_parameters(), tc.named_parameters()):
        assert_close(p.grad, tp.grad, msg=n)
    # unbatched
    u = c(dalam.tensor(x[0]))
    tu = tc(torch.tensor(x[0]))
    assert_close(u[0] if name == "LSTMCell" else u, tu[0] if name == "LSTMCell" else tu)


def test_bad_inputs_name_the_layer_and_shapes():
    m = dalam.nn.LSTM(8, 16, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: input has 10 features.*input_size=8.*\(5, 3, 10\)"):
        m(dalam.randn(5, 3, 10))
    h = dalam.zeros(1, 3, 16)
    with pytest.raises(RuntimeError, match=r"LSTM: expected h_0 of shape \(2, 3, 16\).*\(1, 3, 16\)"):
        m(dalam.randn(5, 3, 8), (h, h))
    g = dalam.nn.GRU(4, 5)
    with pytest.raises(RuntimeError, match=r"GRU: expected hx of shape \(1, 2, 5\)"):
        g(dalam.randn(3, 2, 4), dalam.zeros(1, 2, 6))
    cell = dalam.nn.GRUCell(4, 5)
    with pytest.raises(ValueError, match=r"GRUCell: input has 3 features"):
        cell(dalam.randn(2, 3))
    with pytest.raises(TypeError, match=r"LSTM: input dtype float64"):
        m(dalam.randn(5, 3, 8).double())
    with pytest.raises(RuntimeError, match=r"LSTM: expected a sequence length larger than 0"):
        m(dalam.randn(0, 3, 8))  # PyTorch raises here too
    with pytest.raises(RuntimeError, match=r"GRU: expected a sequence length larger than 0"):
        dalam.nn.GRU(4, 5, batch_first=True)(dalam.randn(2, 0, 4))


def test_char_rnn_state_carry_equals_full_sequence_and_generate():
    from dalam.models.char_rnn import CharRNN
    for cell in ["lstm", "gru"]:
        dalam.manual_seed(0)
        m = CharRNN(11, 8, 16, num_layers=2, cell=cell).eval()
        ids = np.random.default_rng(0).integers(0, 11, (2, 7))
        with dalam.no_grad():
            full, _ = m(dalam.tensor(ids))
            state, steps = None, []
            for t in range(7):
                lo, state = m(dalam.tensor(ids[:, t:t + 1]), state)
                steps.append(lo._data[:, 0])
        np.testing.assert_allclose(np.stack(steps, 1), full.data, rtol=1e-5, atol=1e-6)
        out = m.generate([1, 2, 3], 20, temperature=0.8, top_k=5, generator=np.random.default_rng(1))
        assert out.shape == (20,) and out.min() >= 0 and out.max() < 11
        greedy = m.generate([1, 2, 3], 5, temperature=0)
        np.testing.assert_array_equal(greedy, m.generate([1, 2, 3], 5, temperature=0))


def test_weights_move_from_torch_state_dict():
    tm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    m = dalam.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    m.load_state_dict(tm.state_dict())
    x = np.random.default_rng(11).standard_normal((5, 2, 3)).astype(np.float32)
    assert_close(m(dalam.tensor(x))[0], tm(torch.tensor(x))[0])


def test_gradients_accumulate_over_two_backwards():
    """Two backward passes add up (bias grads are separate arrays, not aliases)."""
    m = dalam.nn.LSTM(3, 4)
    x = dalam.randn(5, 2, 3)
    m(x)[0].sum().backward()
    first = {n: p.grad._data.copy() for n, p in m.named_parameters()}
    m(x)[0].sum().backward()
    for n, p in m.named_parameters():
        np.testing.assert_allclose(p.grad._data, 2 * first[n], rtol=1e-6, atol=1e-7, err_msg=n)
    assert m.bias_ih_l0.grad._data is not m.bias_hh_l0.grad._data
