"""The CLIP-style model: symmetric InfoNCE and the learned temperature match PyTorch, the
temperature is clamped as CLIP clamps it, captions are seeded, bad input is a clear error,
and the example trains, classifies unseen classes zero-shot and saves without pickle."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.autograd import gradcheck
from dalam.datasets.fashion_captions import FashionCaptions
from dalam.models import CLIP
from dalam.models.clip import LOGIT_SCALE_MAX, SmallImageEncoder, clip_loss
from conftest import assert_close, to_torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FlatEncoder(nn.Module):
    def __init__(self, d_in=12, d_out=6):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.out_features = d_out

    def forward(self, x):
        return self.fc(x)


def torch_clip(model, x, t):
    """The same computation written in PyTorch from the dalam model's weights."""
    W = {k: to_torch(v, requires_grad=True) for k, v in model.state_dict().items()}
    f = torch.nn.functional
    img = f.normalize(f.linear(f.linear(to_torch(x), W["image_encoder.fc.weight"], W["image_encoder.fc.bias"]),
                               W["image_projection.weight"]), dim=-1)
    txt = f.normalize(f.linear(to_torch(t), W["text_projection.weight"]), dim=-1)
    logits = W["logit_scale"].clamp(0, math.log(100)).exp() * img @ txt.T
    target = torch.arange(len(x))
    loss = (f.cross_entropy(logits, target) + f.cross_entropy(logits.T, target)) / 2
    return loss, W


@pytest.mark.parametrize("scale", [None, 5.0])  # 5.0 > log(100): clamped, no gradient
def test_loss_and_gradients_match_torch(scale):
    model = CLIP(FlatEncoder(), embed_dim=5, text_dim=7)
    if scale is not None:
        model.logit_scale.data = dalam.tensor(np.float32(scale))
    rng = np.random.default_rng(0)
    x = dalam.tensor(rng.normal(size=(6, 12)).astype(np.float32))
    t = dalam.tensor(rng.normal(size=(6, 7)).astype(np.float32))
    li, lt = model(x, t)
    assert li.shape == (6, 6) and np.allclose(lt.detach().numpy(), li.detach().numpy().T)
    loss = clip_loss(li, lt)
    loss.backward()
    ref, W = torch_clip(model, x, t)
    ref.backward()
    assert_close(loss, ref, rtol=1e-5)
    for name, p in model.named_parameters():
        g = W[name].grad if W[name].grad is not None else torch.zeros_like(W[name])
        assert_close(p.grad, g, rtol=1e-4, atol=1e-6, msg=name)
    if scale is not None:
        assert model.scale().item() == pytest.approx(100.0, rel=1e-5)
        assert model.logit_scale.grad.item() == 0.0


def test_initial_temperature_is_clips():
    model = CLIP(FlatEncoder(), embed_dim=4, text_dim=3)
    assert model.scale().item() == pytest.approx(1 / 0.07, rel=1e-5)
    assert model.logit_scale.dtype == dalam.float32
    assert LOGIT_SCALE_MAX == pytest.approx(math.log(100))


def test_clip_loss_gradcheck_float64():
    rng = np.random.default_rng(1)
    logits = dalam.tensor(rng.normal(size=(5, 5)), dtype=dalam.float64, requires_grad=True)
    assert gradcheck(lambda z: clip_loss(z), (logits,))


def test_matched_pairs_give_a_lower_loss():
    """InfoNCE is low when each image sits next to its own caption, high when pairs are shuffled."""
    e = np.eye(4, dtype=np.float32) * 20
    assert clip_loss(dalam.tensor(e)).item() < 0.01
    assert clip_loss(dalam.tensor(e[[1, 2, 3, 0]])).item() > 10


def test_bad_input_is_a_clear_error():
    model = CLIP(SmallImageEncoder(width=4), embed_dim=8)
    with pytest.raises(ValueError, match=r"CLIP.encode_text: expected sentence embeddings \(N, 384\)"):
        model.encode_text(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match=r"SmallImageEncoder: expected images \(N, 1, 28, 28\), got \(2, 784\)"):
        model.encode_image(dalam.zeros(2, 784))
    with pytest.raises(ValueError, match="no text_encoder"):
        model.encode_text_strings(["a shoe"])
    with pytest.raises(ValueError, match=r"square \(N, N\)"):
        clip_loss(dalam.zeros(3, 4))
    with pytest.raises(ValueError, match="labels must be in"):
        FashionCaptions().sample([3, 10])


def test_captions_are_seeded_and_per_class():
    a, b = FashionCaptions(seed=3), FashionCaptions(seed=3)
    labels = np.array([0, 5, 5, 9, 8])
    assert a.sample(labels) == b.sample(labels)
    idx = FashionCaptions(seed=0).sample_indices(np.repeat(np.arange(10), 20))
    assert (a.class_of[idx] == np.repeat(np.arange(10), 20)).all()
    assert len(set(a.sentences)) == len(a.sentences) == 1200
    assert a.prompts(7)[0] == "a photo of a sneaker." and all("." in p for p in a.prompts(2))


def test_state_dict_round_trip(tmp_path):
    model = CLIP(SmallImageEncoder(width=4), embed_dim=8)
    path = tmp_path / "clip.safetensors"
    dalam.save(model.state_dict(), path)
    other = CLIP(SmallImageEncoder(width=4), embed_dim=8)
    other.load_state_dict(dalam.load(path))
    x, t = dalam.randn(3, 1, 28, 28), dalam.randn(3, 384)
    model.eval(), other.eval()
    with dalam.no_grad():
        assert np.allclose(model(x, t)[0].numpy(), other(x, t)[0].numpy())
    assert "text_encoder" not in " ".join(model.state_dict())  # the frozen encoder loads from its package


def test_example_zero_shot_quick(tmp_path, data_dir):
    """The example end to end at tiny sizes with the real MiniLM and Fashion-MNIST."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT, MPLBACKEND="Agg")
    fig = tmp_path / "queries.png"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "clip_fashion.py"), "--quick",
                        "--data", os.path.join(data_dir, "fashion-mnist"), "--out", str(tmp_path),
                        "--figure", str(fig)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads((tmp_path / "metrics.json").read_text())
    assert res["held_out"] == ["Pullover", "Sandal", "Bag"] and res["train_images"] == 700
    assert res["clip_seen_acc"] > 0.35              # 7 seen classes: chance is 1/7
    assert 0 <= res["zero_shot_heldout_acc"] <= 1 and res["zero_shot_heldout_chance"] == pytest.approx(1 / 3)
    assert res["retrieval_all_R@5"] >= res["retrieval_all_R@1"]
    assert fig.read_bytes()[:4] == b"\x89PNG"
    sd = dalam.load(tmp_path / "clip_fashion.safetensors")
    assert "logit_scale" in sd and "text_projection.weight" in sd
