"""dalam.explain: attributions against PyTorch and against exact answers
(linear models), Integrated Gradients' completeness, Grad-CAM, occlusion,
attention rollout on TransformerEncoder and BertModel, Spearman ranks, the
randomisation sanity check, PNG output, and the model left untouched."""
import copy

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.explain import (attention_maps, attention_rollout, cascading_randomization, grad_cam,
                           integrated_gradients, occlusion, rankdata, rollout, saliency, save_heatmaps,
                           smoothgrad, spearman)

from conftest import to_torch


def tiny_cnn(seed=0):
    dalam.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def torch_twin(model):
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))
    tm.load_state_dict({k: to_torch(v) for k, v in model.state_dict().items()})
    return tm


def images(n=3, seed=1):
    return np.random.default_rng(seed).random((n, 1, 8, 8), dtype=np.float32)


def torch_class_grad(tm, x, target):
    xt = torch.tensor(x, requires_grad=True)
    out = tm(xt)
    (g,) = torch.autograd.grad(out[torch.arange(len(x)), torch.tensor(target)].sum(), xt)
    return g.numpy()


def test_saliency_matches_torch():
    model = tiny_cnn()
    x = images()
    pred = model(dalam.tensor(x))._data.argmax(1)
    expect = torch_class_grad(torch_twin(model), x, pred)
    got = saliency(model, dalam.tensor(x), abs=False)
    assert isinstance(got, dalam.Tensor) and got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5, atol=1e-6)
    got = saliency(model, x, target=2)  # one class for all, magnitude, array in -> array out
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, np.abs(torch_class_grad(torch_twin(model), x, [2, 2, 2])), atol=1e-6)


def check_untouched(fn):
    """``fn(model)`` must leave modes, requires_grad and .grad exactly as they were."""
    model = tiny_cnn()
    model.train()
    model[1].eval()
    model[0].bias.requires_grad_(False)
    model[4].weight.grad = dalam.full(tuple(model[4].weight.shape), 0.5)
    sd = {k: v._data.copy() for k, v in model.state_dict().items()}
    fn(model)
    assert model.training and not model[1].training and model[0].training and model[4].training
    assert not model[0].bias.requires_grad and model[0].weight.requires_grad and model[4].bias.requires_grad
    np.testing.assert_array_equal(model[4].weight.grad._data, 0.5)
    assert model[0].weight.grad is None and model[4].bias.grad is None
    assert all(np.array_equal(v._data, sd[k]) for k, v in model.state_dict().items())
    assert not model[1]._forward_hooks and not model[1]._any_hooks  # hooks removed


@pytest.mark.parametrize("name", ["saliency", "smoothgrad", "ig", "gradcam", "occlusion", "sanity"])
def test_model_untouched(name):
    x = images()
    x_before = x.copy()
    calls = {
        "saliency": lambda m: saliency(m, x),
        "smoothgrad": lambda m: smoothgrad(m, x, n_samples=3),
        "ig": lambda m: integrated_gradients(m, x, steps=4),
        "gradcam": lambda m: grad_cam(m, x, m[1]),
        "occlusion": lambda m: occlusion(m, x, window=4),
        "sanity": lambda m: cascading_randomization(m, x, saliency),
    }
    check_untouched(calls[name])
    np.testing.assert_array_equal(x, x_before)


def test_smoothgrad():
    model = tiny_cnn()
    x = images()
    np.testing.assert_allclose(smoothgrad(model, x, n_samples=4, noise_level=0.0), saliency(model, x),
                               atol=1e-7)
    a = smoothgrad(model, x, n_samples=10, generator=np.random.default_rng(0), batch_size=8)
    b = smoothgrad(model, x, n_samples=10, generator=np.random.default_rng(0), batch_size=1000)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # batching does not change the result
    assert a.shape == x.shape and a.dtype == np.float32 and (a >= 0).all()
    assert not np.allclose(a, saliency(model, x))
    # the mean over noisy copies, computed by hand with the same noise
    rng = np.random.default_rng(5)
    t = model(dalam.tensor(x))._data.argmax(1)
    sig = 0.15 * (x.reshape(3, -1).max(1) - x.reshape(3, -1).min(1)).reshape(3, 1, 1, 1)
    noise = rng.standard_normal((6,) + x.shape) * sig
    tm = torch_twin(model)
    manual = np.mean([torch_class_grad(tm, (x + nz.astype(np.float32)), t) for nz in noise], 0)
    got = smoothgrad(model, x, n_samples=6, abs=False, generator=np.random.default_rng(5))
    np.testing.assert_allclose(got, manual, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_exact_for_linear():
    dalam.manual_seed(0)
    lin = nn.Linear(12, 4)
    x = np.random.default_rng(0).random((5, 12), dtype=np.float32)
    base = np.full(12, 0.5, np.float32)
    attr, info = integrated_gradients(lin, x, target=1, baseline=base, steps=8, return_error=True)
    np.testing.assert_allclose(attr, (x - base) * lin.weight._data[1], rtol=1e-5, atol=1e-6)
    assert np.abs(info["relative_error"]).max() < 1e-5


@pytest.mark.parametrize("method,tol", [("riemann_trapezoid", 0.01), ("riemann_middle", 0.02),
                                        ("gausslegendre", 0.02)])
def test_integrated_gradients_completeness(method, tol):
    """Attributions sum to f(x) - f(baseline) within 1% at 64 steps with the
    default trapezoid rule (the ReLU/max-pool kinks cost the other rules a
    little more on this random net)."""
    model = tiny_cnn()
    x = images(4)
    attr, info = integrated_gradients(model, dalam.tensor(x), steps=64, method=method, return_error=True)
    assert isinstance(attr, dalam.Tensor) and attr.shape == x.shape and attr.dtype == np.float32
    with dalam.no_grad():
        out = model(dalam.tensor(np.concatenate([x, np.zeros_like(x)])))._data
    t = out[:4].argmax(1)
    fx, fb = out[np.arange(4), t], out[4 + np.arange(4), t]
    np.testing.assert_allclose(info["f_x"], fx, rtol=1e-6)
    np.testing.assert_allclose(info["delta"], attr.numpy().reshape(4, -1).sum(1) - (fx - fb), atol=1e-5)
    assert info["relative_error"].max() < tol, info["relative_error"]
    # batching the path does not change the result
    attr2 = integrated_gradients(model, x, steps=64, method=method, batch_size=4)
    np.testing.assert_allclose(attr2, attr.numpy(), rtol=1e-5, atol=1e-7)


def test_grad_cam_matches_torch():
    model = tiny_cnn()
    x = images()
    tm = torch_twin(model)
    t = [0, 1, 2]
    for idx, size in ((1, 8), (2, 4)):  # ReLU output (8x8) and pooled output (4x4, upsampled)
        xt = torch.tensor(x)
        a = tm[:idx + 1](xt)
        a.retain_grad()
        out = tm[idx + 1:](a)
        out[torch.arange(3), torch.tensor(t)].sum().backward()
        cam = torch.relu((a.grad.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
        expect = torch.nn.functional.interpolate(cam, size=(8, 8), mode="bilinear",
                                                 align_corners=False)[:, 0].detach().numpy()
        got = grad_cam(model, dalam.tensor(x), model[idx], target=t)
        assert got.shape == (3, 8, 8) and got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5, atol=1e-6)
        small = grad_cam(model, x, model[idx], target=t, upsample=False)
        assert small.shape == (3, size, size)
        np.testing.assert_allclose(small, cam[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_grad_cam_errors():
    model = tiny_cnn()
    with pytest.raises(ValueError, match="not a submodule"):
        grad_cam(model, images(), nn.ReLU())
    with pytest.raises(RuntimeError, match=r"\(N, C, h, w\)"):
        grad_cam(model, images(), model[4])
    with pytest.raises(TypeError, match="Module"):
        grad_cam(model, images(), "features")
    assert not model[4]._forward_hooks


def test_occlusion_exact_for_linear_model():
    dalam.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    x = images(2)
    w = model[1].weight._data[2].reshape(1, 8, 8)
    got = occlusion(model, x, target=2, window=1)  # drop of one pixel = w * (x - 0)
    np.testing.assert_allclose(got, w * x, rtol=1e-4, atol=1e-5)
    got = occlusion(model, dalam.tensor(x), target=2, window=4, baseline=0.25, batch_size=3)
    contrib = w * (x - 0.25)
    expect = np.zeros_like(x)
    for i in (0, 4):
        for j in (0, 4):
            expect[:, :, i:i + 4, j:j + 4] = contrib[:, :, i:i + 4, j:j + 4].sum((2, 3), keepdims=True)
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-4, atol=1e-5)
    # overlapping windows average the drops; edge positions are included
    o = occlusion(model, x, target=2, window=3, stride=2)
    assert o.shape == x.shape and np.isfinite(o).all()


def tiny_encoder(batch_first=True):
    dalam.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=batch_first)
    return nn.TransformerEncoder(layer, 2)


@pytest.mark.parametrize("batch_first", [True, False])
def test_attention_maps_transformer_encoder(batch_first):
    enc = tiny_encoder(batch_first)
    enc.train()
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    xin = dalam.tensor(x if batch_first else x.transpose(1, 0, 2).copy())
    maps = attention_maps(enc, xin)  # in eval mode (no dropout on the weights), then back to train
    assert enc.training and all(m.training for m in enc.modules())
    assert len(maps) == 2 and maps[0].shape == (2, 2, 5, 5)
    np.testing.assert_allclose(maps[0].sum(-1), 1, rtol=1e-5)
    enc.eval()
    with dalam.no_grad():  # layer by layer: each layer's self-attention weights on its own input
        h = xin
        for layer, m in zip(enc.layers, maps):
            _, w = layer.self_attn(h, h, h, need_weights=True, average_attn_weights=False)
            np.testing.assert_allclose(m, w._data, rtol=1e-5, atol=1e-6)
            h = layer(h)
        np.testing.assert_allclose(enc(xin)._data, h._data)  # hooks were removed
    assert not enc.layers[0].self_attn._forward_hooks and not enc.layers[0].self_attn._forward_pre_hooks


def test_rollout_formula():
    rng = np.random.default_rng(0)
    maps = [rng.random((1, 3, 4, 4)) for _ in range(3)]
    maps = [m / m.sum(-1, keepdims=True) for m in maps]
    r = rollout(maps)
    a = [0.5 * m.mean(1)[0] + 0.5 * np.eye(4) for m in maps]
    np.testing.assert_allclose(r[0], a[2] @ a[1] @ a[0], rtol=1e-5)
    np.testing.assert_allclose(r.sum(-1), 1, rtol=1e-5)
    np.testing.assert_allclose(rollout(maps, residual=False, head_fusion="max")[0],
                               maps[2].max(1)[0] / maps[2].max(1)[0].sum(-1, keepdims=True) @
                               (maps[1].max(1)[0] / maps[1].max(1)[0].sum(-1, keepdims=True)) @
                               (maps[0].max(1)[0] / maps[0].max(1)[0].sum(-1, keepdims=True)), rtol=1e-5)
    with pytest.raises(ValueError, match="head_fusion"):
        rollout(maps, head_fusion="median")


def test_attention_rollout_bert():
    from dalam.models.bert import BertConfig, BertModel
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=16)
    dalam.manual_seed(0)
    bert = BertModel(cfg)
    ids = np.array([[2, 7, 9, 11, 3], [2, 5, 3, 0, 0]])
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    # each caught map, applied to the layer's values, reproduces the layer's output
    outs = []
    h = bert.encoder.layer[0].attention.self.register_forward_hook(lambda m, a, o: outs.append((a[0], o)))
    maps = attention_maps(bert, ids, attention_mask=mask)
    h.remove()
    assert len(maps) == 2 and maps[0].shape == (2, 2, 5, 5)
    xin, y = outs[0]
    v = bert.encoder.layer[0].attention.self.value(xin)._data.reshape(2, 5, 2, 8).transpose(0, 2, 1, 3)
    np.testing.assert_allclose((maps[0] @ v).transpose(0, 2, 1, 3).reshape(2, 5, 16), y._data,
                               rtol=1e-4, atol=1e-6)
    assert maps[1][1, :, :, 3:].max() < 1e-6  # padded keys get no attention
    r = attention_rollout(bert, ids, attention_mask=mask)
    assert r.shape == (2, 5, 5) and r.dtype == np.float32
    np.testing.assert_allclose(r.sum(-1), 1, rtol=1e-5)
    np.testing.assert_allclose(r, rollout(maps), rtol=1e-6)


def test_attention_maps_needs_attention():
    with pytest.raises(TypeError, match="no MultiheadAttention"):
        attention_maps(tiny_cnn(), dalam.tensor(images()))


def test_rankdata_and_spearman():
    np.testing.assert_array_equal(rankdata([10, 20, 20, 30, 5]), [2, 3.5, 3.5, 5, 1])
    rng = np.random.default_rng(0)
    a, b = rng.random(50), rng.random(50)
    d = rankdata(a) - rankdata(b)
    assert spearman(a, b) == pytest.approx(1 - 6 * (d ** 2).sum() / (50 * (50 ** 2 - 1)))
    assert spearman(a, np.exp(3 * a)) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    # with ties: the Pearson correlation of the average ranks
    t1, t2 = np.array([1, 1, 2, 3, 3, 3]), np.array([2, 1, 1, 5, 4, 4])
    assert spearman(t1, t2) == pytest.approx(np.corrcoef(rankdata(t1), rankdata(t2))[0, 1])
    assert np.isnan(spearman(np.ones(4), a[:4]))


def test_cascading_randomization():
    model = tiny_cnn()
    x = images(4)
    state = dalam.get_rng_state()
    res = cascading_randomization(model, x, saliency)
    assert dalam.get_rng_state() == state  # the global RNG is not consumed
    assert [r["layer"] for r in res] == ["", "4", "0"]
    assert res[0]["spearman"] == 1.0
    assert all(-1 <= r["spearman"] <= 1 and r["per_input"].shape == (4,) for r in res)
    assert res[-1]["spearman"] < 0.9  # a fully random model explains differently
    again = cascading_randomization(model, x, saliency)
    assert [r["spearman"] for r in again] == [r["spearman"] for r in res]  # seeded
    cams = cascading_randomization(model, x, lambda m, xx, t: grad_cam(m, xx, m[1], t), layers=["4"])
    assert [r["layer"] for r in cams] == ["", "4"]
    # a mask restricts the ranking to the chosen entries
    keep = np.zeros(x.shape, bool)
    keep[:, :, :4] = True
    masked = cascading_randomization(model, x, saliency, mask=keep)
    work = copy.deepcopy(model)
    base = saliency(work, x)
    from dalam.explain.sanity import _randomise
    _randomise(work[4], 0)
    expect = np.mean([spearman(base[k][keep[k]], saliency(work, x, res_t)[k][keep[k]])
                      for k, res_t in enumerate([model(dalam.tensor(x))._data.argmax(1)] * 4)])
    assert masked[1]["spearman"] == pytest.approx(expect)


def test_save_heatmaps(tmp_path):
    model = tiny_cnn()
    x = images(1)
    maps = {"saliency": saliency(model, x), "IG": integrated_gradients(model, x, steps=8),
            "Grad-CAM": grad_cam(model, x, model[1])}
    p = save_heatmaps(str(tmp_path / "h.png"), x[0], maps, title="digit", signed=("IG",))
    data = open(p, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000


def test_deepcopy_in_sanity_check_keeps_model():
    model = tiny_cnn()
    before = copy.deepcopy(model.state_dict())
    cascading_randomization(model, images(2), saliency)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k]._data)


def test_attention_maps_keep_callers_need_weights():
    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.got = None

        def forward(self, x):
            out, self.got = self.attn(x, x, x, need_weights=False)
            return out

    dalam.manual_seed(0)
    m = Wrap()
    x = dalam.tensor(np.random.default_rng(0).standard_normal((1, 4, 8)).astype(np.float32))
    maps = attention_maps(m, x)
    assert m.got is None and maps[0].shape == (1, 2, 4, 4)  # the caller still gets what it asked for
