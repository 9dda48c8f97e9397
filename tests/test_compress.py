"""dalam.compress: pruning, channel pruning, BatchNorm folding, int8
quantisation, distillation (tiny models; the MNIST figures are in
docs/RESULTS.md)."""
import numpy as np
import pytest

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.compress import prune
from dalam.compress import (channel_plan, mask_channels, shrink, count_parameters, fold_batchnorm,
                            quantize, quantize_per_channel, QuantizedLinear, QuantizedConv2d,
                            save_quantized, load_quantized, soft_target_loss, distillation_loss,
                            distill, magnitude_prune, mask_optimizer, sparsity, make_permanent,
                            iterative_prune)
from dalam.compress.quantize import affine_qparams, _exact_matmul, EXACT_CHUNK


def _mlp(seed=0):
    dalam.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, 31), nn.ReLU(), nn.Linear(31, 17), nn.ReLU(),
                         nn.Linear(17, 5))


def _cnn(seed=0, bn=True):
    dalam.manual_seed(seed)
    layers = [nn.Conv2d(3, 8, 3, padding=1, bias=not bn)]
    layers += [nn.BatchNorm2d(8)] if bn else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, padding=1, bias=not bn)]
    layers += [nn.BatchNorm2d(12)] if bn else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(12 * 4 * 4, 16),
               nn.ReLU(), nn.Linear(16, 10)]
    m = nn.Sequential(*layers)
    rng = np.random.default_rng(seed)
    for mod in m.modules():  # non-trivial BatchNorm statistics and affine parameters
        if isinstance(mod, nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean._data[...] = rng.normal(0, 0.5, c)
            mod.running_var._data[...] = rng.uniform(0.5, 2.0, c)
            mod.weight._data[...] = rng.uniform(0.2, 1.5, c) * rng.choice([-1, 1], c)
            mod.bias._data[...] = rng.normal(0, 0.3, c)
    return m


def _x(shape, seed=1):
    return dalam.tensor(np.random.default_rng(seed).normal(size=shape).astype(np.float32))


# ----------------------------------------------------------------- unstructured pruning
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.8, 0.95, 1.0, 100])
def test_l1_unstructured_exact_sparsity_and_smallest(amount):
    lin = nn.Linear(37, 23)
    w0 = lin.weight._data.copy()
    prune.l1_unstructured(lin, "weight", amount)
    n = w0.size
    k = amount if isinstance(amount, int) else int(round(amount * n))
    zeros = lin.weight._data == 0
    assert zeros.sum() == k
    assert (lin.weight_mask._data == 0).sum() == k
    assert lin.weight_mask._data.dtype == np.float32
    if 0 < k < n:  # the pruned entries are the smallest magnitudes
        assert np.abs(w0[zeros]).max() <= np.abs(w0[~zeros]).min()
    np.testing.assert_array_equal(lin.weight._data[~zeros], w0[~zeros])


def test_global_unstructured_ranks_all_layers_together():
    m = _mlp()
    m[2].weight._data *= 0.1  # a layer with small weights loses more
    before = {id(p): p._data.copy() for p in m.parameters()}
    params = prune.prunable_parameters(m)
    prune.global_unstructured(params, 0.6)
    allw = np.concatenate([before[id(mod.weight)].ravel() for mod, _ in params])
    pruned = np.concatenate([(mod.weight._data == 0).ravel() for mod, _ in params])
    assert pruned.sum() == int(round(0.6 * allw.size))
    assert np.abs(allw[pruned]).max() <= np.abs(allw[~pruned]).min()
    assert sparsity(m[2].weight) > sparsity(m[0].weight)
    assert sparsity(m) == pytest.approx(pruned.mean())


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_iterative_pruning_keeps_old_zeros_and_hits_each_target(scope):
    m = _mlp()
    seen = []

    def finetune(model, i, s):
        seen.append(sparsity(model))
        return i

    masks = []

    def record(model, i, s):
        masks.append({id(mod): mod.weight_mask._data.copy() for mod, _ in prune.prunable_parameters(model)})
        return finetune(model, i, s)

    out = iterative_prune(m, [0.5, 0.8, 0.9], record, scope=scope)
    assert out == [0, 1, 2]
    total = sum(mod.weight._data.size for mod, _ in prune.prunable_parameters(m))
    for s, got in zip([0.5, 0.8, 0.9], seen):
        if scope == "global":
            assert got == int(round(s * total)) / total
        else:
            assert got == pytest.approx(s, abs=0.01)
    for a, b in zip(masks, masks[1:]):  # once pruned, always pruned
        for key in a:
            assert np.all(b[key][a[key] == 0] == 0)


def test_masks_survive_adam_steps_with_stale_momentum():
    m = _mlp()
    x, y = _x((16, 20)), dalam.tensor(np.arange(16) % 5)
    opt = dalam.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-2)
    for _ in range(3):  # Adam moments for every weight, before pruning
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        opt.step()
    magnitude_prune(m, 0.7)
    handle = mask_optimizer(opt, m)
    layers = prune.prunable_parameters(m)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        for mod, _ in layers:  # the gradient hook zeroes the pruned entries' gradients
            assert np.all(mod.weight.grad._data[mod.weight_mask._data == 0] == 0)
        opt.step()
        for mod, _ in layers:  # and the step post-hook keeps the weights at zero
            assert np.all(mod.weight._data[mod.weight_mask._data == 0] == 0)
    assert sparsity(m) == pytest.approx(0.7, abs=1e-3)
    handle.remove()
    # without the optimiser hook, stale moments move pruned weights, but the
    # forward pre-hook re-applies the mask before the layer computes
    opt.step()
    ref = [mod.weight._data * mod.weight_mask._data for mod, _ in layers]
    out = m(x)
    for (mod, _), r in zip(layers, ref):
        np.testing.assert_array_equal(mod.weight._data, r)
    assert out.shape == (16, 5)


def test_remove_makes_pruning_permanent():
    m = _mlp()
    magnitude_prune(m, 0.5, scope="layer")
    assert prune.is_pruned(m)
    assert "0.weight_mask" in m.state_dict()
    zeros = m[0].weight._data == 0
    make_permanent(m)
    assert not prune.is_pruned(m)
    assert list(m.state_dict()) == list(_mlp().state_dict())
    np.testing.assert_array_equal(m[0].weight._data == 0, zeros)
    # no hook left: gradients of zero weights are no longer masked
    F.cross_entropy(m(_x((4, 20))), dalam.tensor([0, 1, 2, 3])).backward()
    assert np.any(m[0].weight.grad._data[zeros] != 0)
    with pytest.raises(ValueError, match="not pruned"):
        prune.remove(m[0], "weight")


def test_deepcopy_of_pruned_model_uses_its_own_masks():
    import copy
    m = _mlp()
    magnitude_prune(m, 0.5)
    c = copy.deepcopy(m)
    c[0].weight_mask._data[...] = 0  # prune all of the copy's first layer
    F.cross_entropy(c(_x((4, 20))), dalam.tensor([0, 1, 2, 3])).backward()
    assert np.all(c[0].weight.grad._data == 0) and np.all(c[0].weight._data == 0)
    F.cross_entropy(m(_x((4, 20))), dalam.tensor([0, 1, 2, 3])).backward()
    assert np.any(m[0].weight.grad._data != 0)  # the original's mask is untouched
    make_permanent(c)
    assert prune.is_pruned(m) and not prune.is_pruned(c)


def test_prune_conv_and_bad_arguments():
    conv = nn.Conv2d(3, 4, 3)
    prune.l1_unstructured(conv, "weight", 0.25)
    assert (conv.weight._data == 0).sum() == round(0.25 * conv.weight._data.size)
    with pytest.raises(ValueError, match="target sparsity"):
        prune.l1_unstructured(nn.Linear(3, 3), "weight", 1.5)
    with pytest.raises(ValueError, match="no parameter 'kernel'"):
        prune.l1_unstructured(nn.Linear(3, 3), "kernel", 0.5)
    with pytest.raises(ValueError, match="scope"):
        magnitude_prune(_mlp(), 0.5, scope="row")


# ----------------------------------------------------------------- channel pruning
@pytest.mark.parametrize("criterion", ["l1", "bn"])
@pytest.mark.parametrize("amount", [0.25, 0.5, 0.75])
def test_shrunk_model_equals_masked_model(criterion, amount):
    m = _cnn().eval()
    plan = channel_plan(m, amount, criterion)
    assert [len(v) for v in plan.values()] == [8 - round(8 * amount), 12 - round(12 * amount)]
    masked, small = mask_channels(m, plan).eval(), shrink(m, plan).eval()
    x = _x((5, 3, 16, 16))
    with dalam.no_grad():
        ym, ys = masked(x)._data, small(x)._data
    np.testing.assert_allclose(ys, ym, rtol=1e-5, atol=1e-5)
    assert count_parameters(small) < count_parameters(m)
    assert small[0].out_channels == len(plan["0"]) and small[4].in_channels == len(plan["0"])
    assert small[10].in_features == len(plan["4"]) * 16
    assert small[1].running_mean.shape == (len(plan["0"]),)
    if criterion == "bn":  # the kept channels have the largest |gamma|
        g = np.abs(m[1].weight._data)
        dropped = np.setdiff1d(np.arange(8), plan["0"])
        if len(dropped):
            assert g[dropped].max() <= g[plan["0"]].min()
    # the original is untouched
    assert m[0].out_channels == 8


def test_shrunk_model_trains_and_matches_in_train_mode():
    m = _cnn()
    m[9].p = 0.0  # no dropout randomness: train-mode BatchNorm uses batch statistics
    plan = channel_plan(m, 0.5)
    masked, small = mask_channels(m, plan).train(), shrink(m, plan).train()
    x = _x((6, 3, 16, 16))
    np.testing.assert_allclose(small(x)._data, masked(x)._data, rtol=1e-4, atol=1e-5)
    opt = dalam.optim.SGD(small.parameters(), lr=0.1)
    loss = F.cross_entropy(small(x), dalam.tensor(np.arange(6) % 10))
    loss.backward()
    opt.step()


def test_channel_prune_lenet_and_unsupported_chain():
    from dalam.models import LeNet5
    dalam.manual_seed(0)
    net = LeNet5().eval()
    plan = channel_plan(net, 0.5)
    small = shrink(net, plan)
    x = _x((2, 1, 28, 28))
    np.testing.assert_allclose(small(x)._data, mask_channels(net, plan)(x)._data, rtol=1e-5, atol=1e-5)
    assert count_parameters(small) < count_parameters(net)

    class Odd(nn.Module):  # receives pruned channels but is not known to be per-channel
        def forward(self, x):
            return x

    bad = nn.Sequential(nn.Conv2d(1, 4, 3), Odd(), nn.Conv2d(4, 2, 3))
    with pytest.raises(ValueError, match="Odd"):
        shrink(bad, channel_plan(bad, 0.5, layers=["0"]))


# ----------------------------------------------------------------- BatchNorm folding
def test_fold_batchnorm_equals_eval_model():
    m = _cnn().eval()
    folded = fold_batchnorm(m)
    assert not any(isinstance(mod, nn.BatchNorm2d) for mod in folded.modules())
    x = _x((3, 3, 16, 16))
    np.testing.assert_allclose(folded(x)._data, m(x)._data, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------- quantisation
def test_per_channel_scales():
    w = np.random.default_rng(0).normal(size=(6, 4, 3, 3)).astype(np.float32)
    w[2] = 0.0
    q, s = quantize_per_channel(w)
    assert q.dtype == np.int8 and s.dtype == np.float32 and s.shape == (6,)
    amax = np.abs(w).reshape(6, -1).max(1)
    np.testing.assert_allclose(s[[0, 1, 3, 4, 5]], amax[[0, 1, 3, 4, 5]] / 127, rtol=1e-7)
    assert s[2] == 1.0 and np.all(q[2] == 0)
    assert np.abs(q).max() == 127 and q.min() >= -127
    for o in (0, 1, 3, 4, 5):  # each channel's extreme maps to +-127; rounding error <= scale/2
        assert np.abs(q[o]).max() == 127
        assert np.abs(q[o] * s[o] - w[o]).max() <= s[o] / 2 * (1 + 1e-6)


def test_affine_qparams_represent_zero_and_cover_range():
    for lo, hi in [(-0.4, 2.8), (0.0, 5.0), (0.3, 1.0), (-3.0, -1.0)]:
        s, zp = affine_qparams(lo, hi)
        assert 0 <= zp <= 255
        assert s * (0 - zp) <= min(lo, 0) + s and s * (255 - zp) >= max(hi, 0) - s


def test_exact_matmul_beyond_float32_mantissa():
    rng = np.random.default_rng(0)
    k = 3 * EXACT_CHUNK + 7
    a = rng.integers(-255, 256, (3, k)).astype(np.float32)
    a[0] = 255.0  # worst case: sums near 1e8, far past 2**24
    b = rng.integers(-127, 128, (k, 5)).astype(np.float32)
    b[:, 0] = 127.0
    ref = a.astype(np.int64) @ b.astype(np.int64)
    assert abs(ref).max() > 2 ** 24
    np.testing.assert_array_equal(_exact_matmul(a, b), ref)


def _lin_reference(qmod, x):
    """int64 reference of QuantizedLinear: codes, integer GEMM, rescale."""
    s, zp = float(qmod.input_scale._data), int(qmod.input_zero_point._data)
    codes = np.clip(np.rint(x.astype(np.float32) * np.float32(1 / np.float32(s))), -zp, 255 - zp)
    acc = codes.astype(np.int64) @ qmod.weight_int8._data.astype(np.int64).T
    return acc * (np.float32(s) * qmod.weight_scale._data).astype(np.float64) + qmod.bias._data


@pytest.mark.parametrize("in_features", [40, 1200])
def test_quantized_linear_matches_integer_reference_and_float_bound(in_features):
    dalam.manual_seed(0)
    lin = nn.Linear(in_features, 9)
    x = np.random.default_rng(2).normal(size=(7, in_features)).astype(np.float32) * 2
    q = QuantizedLinear.from_float(lin, x.min(), x.max())
    y = q(dalam.tensor(x))._data
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _lin_reference(q, x), rtol=1e-6, atol=1e-6)
    # error bound against float: |dx| <= s_x/2, |dw| <= s_w/2 per entry
    yf = lin(dalam.tensor(x))._data
    sx, sw = float(q.input_scale._data), q.weight_scale._data
    w = lin.weight._data
    bound = (sx / 2 * np.abs(w).sum(1) + np.abs(x).sum(1)[:, None] * sw[None, :] / 2
             + in_features * sx * sw / 4)
    assert np.all(np.abs(y - yf) <= bound * 1.001 + 1e-5)
    assert np.abs(y - yf).max() < 0.02 * np.abs(yf).max()
    codes = q.quantize_input(dalam.tensor(x))
    assert codes.dtype == np.uint8


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), (1, "same")])
def test_quantized_conv_matches_dequantized_float64_conv(stride, padding):
    dalam.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, stride=stride, padding=padding)
    x = np.random.default_rng(3).uniform(-1, 3, (2, 3, 9, 9)).astype(np.float32)
    q = QuantizedConv2d.from_float(conv, x.min(), x.max())
    y = q(dalam.tensor(x))._data
    s, zp = float(q.input_scale._data), int(q.input_zero_point._data)
    xhat = np.clip(np.rint(x * np.float32(1 / np.float32(s))), -zp, 255 - zp).astype(np.float64) * s
    what = q.weight_int8._data.astype(np.float64) * q.weight_scale._data.astype(np.float64)[:, None, None, None]
    ref = F.conv2d(dalam.tensor(xhat), dalam.tensor(what), dalam.tensor(conv.bias._data.astype(np.float64)),
                   stride=stride, padding=padding)._data
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    yf = conv(dalam.tensor(x))._data
    assert y.shape == yf.shape
    assert np.abs(y - yf).max() < 0.02 * np.abs(yf).max()
    np.testing.assert_array_equal(q(dalam.tensor(x[0]))._data, y[0])  # unbatched input
    with pytest.raises(RuntimeError, match="QuantizedConv2d"):
        q(dalam.tensor(x[:, :2]))


def test_quantize_model_and_int8_round_trip(tmp_path):
    m = _cnn().eval()
    rng = np.random.default_rng(5)
    calib = [rng.normal(size=(8, 3, 16, 16)).astype(np.float32) for _ in range(3)]
    qm = quantize(m, calib)
    kinds = [type(mod).__name__ for mod in qm.modules()]
    assert kinds.count("QuantizedConv2d") == 2 and kinds.count("QuantizedLinear") == 2
    assert "BatchNorm2d" not in kinds
    x = dalam.tensor(calib[0])
    yf, yq = m(x)._data, qm(x)._data
    assert np.abs(yq - yf).max() < 0.05 * np.abs(yf).max()
    assert (yq.argmax(1) == yf.argmax(1)).mean() >= 0.75
    path = tmp_path / "q.safetensors"
    save_quantized(qm, path)
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert raw[8:9] == b"{" and b"dalam.quantized" in raw[8:8 + n]  # safetensors header, not pickle
    from dalam.io.serialization import read_safetensors
    tensors, meta = read_safetensors(path)
    assert tensors["0.weight_int8"].dtype == np.int8
    back = load_quantized(path, _cnn(seed=9))  # other float weights: all come from the file
    np.testing.assert_array_equal(back(x)._data, yq)
    fpath = tmp_path / "f.safetensors"
    dalam.save(m.state_dict(), fpath)
    assert path.stat().st_size < 0.45 * fpath.stat().st_size
    with pytest.raises(ValueError, match="different architecture|in_features|in_channels"):
        load_quantized(path, nn.Sequential(nn.Linear(3, 3)))


# ----------------------------------------------------------------- distillation
def _torch_kd(s, t, y, T, alpha):
    import torch
    import torch.nn.functional as tF
    st = torch.tensor(s, requires_grad=True)
    soft = tF.kl_div(tF.log_softmax(st / T, 1), tF.softmax(torch.tensor(t) / T, 1),
                     reduction="batchmean") * T * T
    loss = alpha * soft + (1 - alpha) * tF.cross_entropy(st, torch.tensor(y))
    loss.backward()
    return loss.item(), st.grad.numpy()


@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 1.0)])
def test_distillation_loss_matches_torch_and_hand(T, alpha):
    rng = np.random.default_rng(0)
    s = rng.normal(size=(6, 10)).astype(np.float32) * 3
    t = rng.normal(size=(6, 10)).astype(np.float32) * 3
    y = rng.integers(0, 10, 6)
    st = dalam.tensor(s, requires_grad=True)
    loss = distillation_loss(st, dalam.tensor(t), dalam.tensor(y), T, alpha)
    loss.backward()
    ref, gref = _torch_kd(s, t, y, T, alpha)
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(ref, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(st.grad._data, gref, rtol=1e-4, atol=1e-6)
    # by hand, float64
    def lsm(z):
        z = z - z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))
    lp, lq = lsm(t.astype(np.float64) / T), lsm(s.astype(np.float64) / T)
    kl = (np.exp(lp) * (lp - lq)).sum() / 6 * T * T
    assert soft_target_loss(dalam.tensor(s), dalam.tensor(t), T).item() == pytest.approx(kl, rel=1e-5)


def test_distill_trains_student_towards_teacher():
    dalam.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 4))
    student = nn.Linear(8, 4)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(256, 8)).astype(np.float32)
    with dalam.no_grad():
        ys = teacher(dalam.tensor(xs))._data.argmax(1)
    loader = [(dalam.tensor(xs[i:i + 32]), dalam.tensor(ys[i:i + 32])) for i in range(0, 256, 32)]
    before = soft_target_loss(student(dalam.tensor(xs)), teacher(dalam.tensor(xs)), 2.0).item()
    losses = distill(student, teacher, loader, dalam.optim.Adam(student.parameters(), lr=0.05),
                     epochs=8, temperature=2.0, alpha=0.9, verbose=False)
    after = soft_target_loss(student(dalam.tensor(xs)), teacher(dalam.tensor(xs)), 2.0).item()
    assert len(losses) == 8 and losses[-1] < losses[0]
    assert after < 0.5 * before
    with pytest.raises(ValueError, match="same shape"):
        soft_target_loss(dalam.tensor(xs[:, :4]), dalam.tensor(xs[:, :3]))
