"""The TensorBoard callback: train a small model with ``dalam.fit`` and read
the event files back (TFRecord framing + tensorboardX's protobuf messages):
scalars equal to the History, histograms of every weight and gradient,
images and generated text."""
import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.data import DataLoader, TensorDataset
from dalam.train import TensorBoard, fit, read_events


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 1, 4, 4)).astype(np.float32)
    y = (x.reshape(n, -1).sum(1) > 0).astype(np.int64)
    return x, y


def test_tensorboard_events_read_back(tmp_path):
    dalam.manual_seed(0)
    x, y = _data()
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    images = np.clip(x[:4] * 0.2 + 0.5, 0, 1)
    texts = []

    def text_fn(trainer):
        texts.append(f"epoch {trainer.epoch} sample")
        return texts[-1]
    tb = TensorBoard(tmp_path / "tb", update_freq=2, histogram_freq=1, images=images, text_fn=text_fn)
    hist = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=2, val_loader=loader,
               metrics=["accuracy"], callbacks=[tb], verbose=0)
    ev = read_events(tmp_path / "tb")

    def series(tag):
        return [(s, v) for t, s, k, v in ev if t == tag]
    # epoch scalars: at the global step after each epoch (4 batches an epoch), equal to the History
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        got = series(f"epoch/{key}")
        assert [s for s, _ in got] == [4, 8]
        np.testing.assert_allclose([v for _, v in got], hist.history[key], rtol=1e-6)
    assert [s for s, _ in series("batch/loss")] == [2, 4, 6, 8]
    # histograms: every parameter and its gradient, every epoch
    names = [n for n, _ in model.named_parameters()]
    for n, p in model.named_parameters():
        w = series(f"weights/{n}")
        g = series(f"grads/{n}")
        assert len(w) == 2 and len(g) == 2
        last = w[-1][1]
        assert last["num"] == p.numel()
        assert last["min"] == pytest.approx(float(p._data.min())) and last["max"] == pytest.approx(
            float(p._data.max()))
        assert g[-1][1]["sum"] == pytest.approx(float(p.grad._data.sum()), rel=1e-5, abs=1e-6)
    assert len(names) == 4
    # images and text
    imgs = [v for t, s, k, v in ev if k == "image"]
    assert len(imgs) == 2 and all(v[0] > 0 and v[1] > 0 for v in imgs)
    assert [v for t, s, k, v in ev if k == "text"] == texts == ["epoch 0 sample", "epoch 1 sample"]


def test_tensorboard_rejects_bad_arguments():
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard("x", update_freq=-1)
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard("x", histogram_freq=1.5)
