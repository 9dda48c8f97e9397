"""dalam.fit / Trainer / History / callbacks."""
import csv
import json
import math
import subprocess
import sys
import types

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam import metrics as M
from dalam.data import DataLoader, TensorDataset
from dalam.train import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback,
                         LearningRateScheduler, ModelCheckpoint, TerminateOnNaN, Trainer,
                         load_checkpoint)
from dalam.train import progress as progress_mod

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def blobs(n=240, seed=0):
    """Three well-separated Gaussian blobs in 2-D."""
    r = np.random.default_rng(seed)
    y = r.integers(0, 3, n)
    centers = np.array([[0, 3], [3, -2], [-3, -2]], np.float32)
    x = (centers[y] + r.standard_normal((n, 2))).astype(np.float32)
    return x, y


def loaders(batch=32, gen=True):
    x, y = blobs()
    g = dalam.Generator().manual_seed(0) if gen else None
    train = DataLoader(TensorDataset(x[:192], y[:192]), batch_size=batch, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(x[192:], y[192:]), batch_size=20)
    return train, val


def mlp(drop=0.0):
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(drop), nn.Linear(16, 3))


def test_fit_learns_and_returns_keras_like_history():
    train, val = loaders()
    model = mlp()
    opt = dalam.optim.Adam(model.parameters(), lr=0.02)
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=6, val_loader=val,
                  metrics=["accuracy", "f1"], verbose=0)
    assert isinstance(h, History) and h.epoch == list(range(6))
    assert list(h.history) == ["loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"]
    assert all(len(v) == 6 for v in h.history.values())
    assert all(isinstance(v, float) for vals in h.history.values() for v in vals)
    assert h.history["loss"][-1] < h.history["loss"][0] / 3
    assert h.history["val_accuracy"][-1] >= 0.95
    assert h.history["lr"] == [0.02] * 6
    assert h["loss"] is h.history["loss"] and len(h) == 6 and "History(epochs=6" in repr(h)


def test_fit_is_exactly_the_hand_written_loop():
    """fit does zero_grad / forward / loss / backward / step and nothing else
    that touches the weights or the random streams (dropout included)."""
    train, _ = loaders()
    dalam.manual_seed(5)
    model = mlp(drop=0.3)
    opt = dalam.optim.Adam(model.parameters(), lr=0.01)
    dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=3, verbose=0, metrics=["accuracy"])

    train2, _ = loaders()
    dalam.manual_seed(5)
    ref = mlp(drop=0.3)
    opt2 = dalam.optim.Adam(ref.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(3):
        ref.train()
        for xb, yb in train2:  # numpy batches (a TensorDataset of arrays); fit wraps them
            opt2.zero_grad()
            loss_fn(ref(dalam.tensor(xb)), dalam.tensor(yb)).backward()
            opt2.step()
    for (k, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items()):
        assert np.array_equal(a._data, b._data), k


def test_logged_values_are_sample_weighted_means_and_val_matches_metrics():
    train, val = loaders(batch=50)  # 192 = 3 x 50 + 42: a short last batch
    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    batch_losses = []
    cb = LambdaCallback(on_batch_end=lambda tr, step, logs: batch_losses.append(logs["loss"]))
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=1, val_loader=val,
                  metrics=["accuracy", "precision"], callbacks=[cb], verbose=0)
    sizes = [50, 50, 50, 42]
    assert h.history["loss"][0] == pytest.approx(np.dot(batch_losses, sizes) / 192, rel=1e-12)
    xv, yv = val.dataset.tensors
    model.eval()
    with dalam.no_grad():
        out = model(dalam.tensor(xv))
        vloss = float(nn.CrossEntropyLoss()(out, dalam.tensor(yv))._data)
    assert h.history["val_loss"][0] == pytest.approx(vloss, rel=1e-6)
    assert h.history["val_accuracy"][0] == pytest.approx(M.accuracy(out, yv))
    assert h.history["val_precision"][0] == pytest.approx(M.precision(out, yv))
    assert model.training is False  # we called eval() above; fit leaves train mode on during fit


def test_callback_protocol_order_and_arguments():
    train, val = loaders(batch=64)  # 3 batches per epoch
    events = []

    class Recorder(Callback):
        def on_train_begin(self, trainer):
            events.append(("train_begin", trainer.epoch, trainer.global_step))

        def on_epoch_begin(self, trainer, epoch):
            events.append(("epoch_begin", epoch))

        def on_batch_end(self, trainer, step, logs):
            assert set(logs) == {"loss", "lr"} and trainer.global_step == step
            events.append(("batch_end", step, trainer.batch_in_epoch))

        def on_epoch_end(self, trainer, epoch, logs):
            assert trainer.history.epoch[-1] == epoch  # history is updated first
            assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} == set(logs)
            events.append(("epoch_end", epoch))

        def on_train_end(self, trainer):
            events.append(("train_end",))

    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=2, val_loader=val, metrics="accuracy",
              callbacks=[Recorder()], verbose=0)
    assert events == [("train_begin", 0, 0),
                      ("epoch_begin", 0), ("batch_end", 1, 1), ("batch_end", 2, 2), ("batch_end", 3, 3),
                      ("epoch_end", 0),
                      ("epoch_begin", 1), ("batch_end", 4, 1), ("batch_end", 5, 2), ("batch_end", 6, 3),
                      ("epoch_end", 1), ("train_end",)]


def test_callbacks_sorted_by_order_and_stop_training():
    calls = []

    class A(Callback):
        order = 5

        def on_batch_end(self, trainer, step, logs):
            calls.append("A")

    class B(Callback):
        def on_batch_end(self, trainer, step, logs):
            calls.append("B")
            if step == 2:
                trainer.stop_training = True

    train, _ = loaders(batch=16)
    model = mlp()
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), dalam.optim.SGD(model.parameters(), lr=0.1),
                  epochs=5, callbacks=[A(), B()], verbose=0)
    assert calls == ["B", "A", "B", "A"]  # B (order 0) runs before A (order 5); stops after step 2
    assert h.epoch == [0]  # the partial epoch is still logged


def test_verbose_levels(capsys, monkeypatch):
    train, val = loaders()

    def run(verbose):
        model = mlp()
        dalam.fit(model, train, nn.CrossEntropyLoss(), dalam.optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, val_loader=val, metrics=["accuracy"], verbose=verbose)
        return capsys.readouterr()

    out = run(0)
    assert out.out == "" and out.err == ""
    for verbose in (1, 2):  # 1 when the output is a file or a pipe (as under pytest): one line per epoch
        out = run(verbose)
        lines = out.out.strip().splitlines()
        assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ") and "val_accuracy: " in lines[1]
    monkeypatch.setattr(progress_mod, "_interactive", lambda: True)
    out = run(1)  # a terminal: a tqdm bar per epoch with the running loss
    assert "Epoch 1/2" in out.err and "Epoch 2/2" in out.err and "loss=" in out.err
    # the finished epoch shows every figure: on the bar, or on a line below when the terminal is narrow
    tail = "\n".join(out.err.replace("\r", "\n").strip().splitlines()[-2:])
    assert "accuracy" in tail and "val_accuracy" in tail and "val_loss" in tail
    with pytest.raises(ValueError, match="verbose must be"):
        run(3)


def test_import_stays_light_tqdm_and_matplotlib_are_lazy():
    code = ("import sys, numpy as np, dalam, dalam.nn as nn\n"
            "assert 'dalam.train' not in sys.modules and 'dalam.metrics' not in sys.modules\n"
            "from dalam.data import DataLoader, TensorDataset\n"
            "x = np.zeros((8, 2), np.float32); y = np.zeros(8, np.int64)\n"
            "m = nn.Linear(2, 2)\n"
            "h = dalam.fit(m, DataLoader(TensorDataset(x, y), batch_size=4), nn.CrossEntropyLoss(),\n"
            "              dalam.optim.SGD(m.parameters(), lr=0.1), epochs=1, verbose=0)\n"
            "assert dalam.fit.__module__ == 'dalam.train.trainer'\n"
            "assert 'tqdm' not in sys.modules and 'matplotlib' not in sys.modules, 'eager import'\n"
            "print('ok', len(h.epoch))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok 1"


def test_history_plot_writes_png(tmp_path):
    h = History()
    for e in range(4):
        h.append(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.1 * e, "val_loss": 1.2 / (e + 1),
                     "val_accuracy": 0.45 + 0.1 * e, "lr": 0.1})
    p = h.plot(tmp_path / "curves.png", title="t")
    data = (tmp_path / "curves.png").read_bytes()
    assert p == tmp_path / "curves.png" and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    h.plot(tmp_path / "loss.png", keys=["loss"])
    with pytest.raises(KeyError, match="no values logged for \\['f1'\\]"):
        h.plot(tmp_path / "x.png", keys=["f1"])
    with pytest.raises(ValueError, match="history is empty"):
        History().plot(tmp_path / "y.png")
    # a key that appears late is padded with NaN so every list has one value per epoch
    h.append(4, {"loss": 0.1, "f1": 0.9})
    assert math.isnan(h.history["f1"][0]) and math.isnan(h.history["accuracy"][4])


def _fake_trainer(model):
    return types.SimpleNamespace(model=model, stop_training=False, resumed=False)


@pytest.mark.parametrize("values,patience,stop_epoch", [
    ([1.0, 0.9, 0.95, 0.96, 0.97], 2, 3),
    ([1.0, 0.9, 0.8, 0.7, 0.6], 1, None),
    ([1.0, 1.1, 0.5, 0.6, 0.7], 0, 1),
])
def test_early_stopping_patience(values, patience, stop_epoch):
    model = mlp()
    tr = _fake_trainer(model)
    es = EarlyStopping(monitor="val_loss", patience=patience)
    es.on_train_begin(tr)
    stopped = None
    for e, v in enumerate(values):
        es.on_epoch_end(tr, e, {"val_loss": v})
        if tr.stop_training:
            stopped = e
            break
    assert stopped == stop_epoch


def test_early_stopping_min_delta_mode_and_restore_best_weights():
    model = mlp()
    tr = _fake_trainer(model)
    es = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05, restore_best_weights=True)
    assert es.mode == "max"
    es.on_train_begin(tr)
    best = None
    for e, v in enumerate([0.5, 0.7, 0.72, 0.74]):  # +0.02 steps do not count (min_delta 0.05)
        if e == 1:
            best = {k: t._data.copy() for k, t in model.state_dict().items()}
        es.on_epoch_end(tr, e, {"val_accuracy": v})
        for p in model.parameters():  # training moves the weights on
            p._data += 1.0
        if tr.stop_training:
            break
    assert tr.stop_training and es.stopped_epoch == 2 and es.best_epoch == 1 and es.best == 0.7
    es.on_train_end(tr)
    for k, t in model.state_dict().items():
        assert np.array_equal(t._data, best[k])


def test_early_stopping_in_fit_and_missing_monitor_warns():
    train, val = loaders()
    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=0.0)  # nothing improves after epoch 0
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=10, val_loader=val, verbose=0,
                  callbacks=[EarlyStopping(patience=2)])
    assert h.epoch == [0, 1, 2]
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=1, verbose=0,
                  callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")


def test_model_checkpoint_files_pointer_and_pruning(tmp_path):
    import safetensors.torch
    import torch
    train, val = loaders()
    model = mlp()
    opt = dalam.optim.Adam(model.parameters(), lr=0.02)
    ck = ModelCheckpoint(tmp_path / "ck", monitor="val_accuracy", keep_last=2)
    dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=4, val_loader=val, metrics=["accuracy"],
              callbacks=[ck], verbose=0)
    ptr = json.loads((tmp_path / "ck" / "checkpoint.json").read_text())
    assert ptr["last"] == "ckpt-e0004-s0000024" and ptr["monitor"] == "val_accuracy"
    folders = sorted(p.name for p in (tmp_path / "ck").iterdir() if p.is_dir())
    assert set(folders) == {ptr["last"], "ckpt-e0003-s0000018", ptr["best"]}  # 2 newest + best
    last = tmp_path / "ck" / ptr["last"]
    assert sorted(p.name for p in last.iterdir()) == ["model.safetensors", "progress.json",
                                                       "training_state.safetensors"]
    # the weights are a plain safetensors state dict: PyTorch loads it into the same architecture
    tm = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Dropout(0.0),
                             torch.nn.Linear(16, 3))
    tm.load_state_dict(safetensors.torch.load_file(str(last / "model.safetensors")))
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    model.eval()
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), model(dalam.tensor(x))._data,
                               rtol=1e-5, atol=1e-6)
    progress = json.loads((last / "progress.json").read_text())
    assert progress["epoch"] == 4 and progress["batch"] == 0 and progress["global_step"] == 24
    assert len(progress["history"]["history"]["val_accuracy"]) == 4
    # load_checkpoint restores weights and optimizer state into fresh objects
    fresh = mlp()
    fresh_opt = dalam.optim.Adam(fresh.parameters(), lr=0.02)
    info = load_checkpoint(tmp_path / "ck", fresh, fresh_opt)
    assert info["global_step"] == 24
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert np.array_equal(a._data, b._data), k
    sa, sb = opt.state_dict()["state"], fresh_opt.state_dict()["state"]
    assert all(np.array_equal(sa[i]["exp_avg_sq"]._data, sb[i]["exp_avg_sq"]._data) for i in sa)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing", fresh)


def test_model_checkpoint_save_best_only(tmp_path):
    ck = ModelCheckpoint(tmp_path, monitor="val_loss", save_best_only=True)
    model = mlp()
    tr = types.SimpleNamespace(epoch=0, global_step=0, resumed=False,
                               save_checkpoint=lambda p: saved.append(p.name) or p)
    saved = []
    ck.on_train_begin(tr)
    for e, v in enumerate([1.0, 0.8, 0.9, 0.7, 0.75]):
        tr.epoch, tr.global_step = e, 10 * (e + 1)
        ck.on_epoch_end(tr, e, {"val_loss": v})
    assert saved == ["ckpt-e0001-s0000010", "ckpt-e0002-s0000020", "ckpt-e0004-s0000040"]
    assert json.loads((tmp_path / "checkpoint.json").read_text())["best_value"] == 0.7
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(tmp_path, save_freq=0)
    del model


def test_csv_logger(tmp_path):
    train, val = loaders()
    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "log.csv"
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=3, val_loader=val,
                  metrics=["accuracy"], callbacks=[CSVLogger(path)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]  # counted from 1, as on screen
    assert [float(r[1]) for r in rows[1:]] == h.history["loss"]  # full precision
    dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=1, val_loader=val,
              metrics=["accuracy"], callbacks=[CSVLogger(path, append=True)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert len(rows) == 5 and rows[0][0] == "epoch"


def test_learning_rate_scheduler_epoch_batch_function_plateau():
    train, _ = loaders(batch=64)  # 3 batches per epoch
    sched_lrs = []

    def run(**kw):
        model = mlp()
        opt = dalam.optim.SGD(model.parameters(), lr=1.0)
        cbs = [LambdaCallback(on_batch_end=lambda tr, s, logs: sched_lrs.append(logs["lr"]))]
        sched = kw.pop("sched", None)
        if sched is not None:
            kw["scheduler"] = sched(opt)
        if "cb" in kw:
            cbs.append(kw.pop("cb")(opt))
        h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=3, verbose=0, callbacks=cbs, **kw)
        return h.history["lr"]

    step = dalam.optim.lr_scheduler.StepLR
    assert run(sched=lambda o: step(o, step_size=1, gamma=0.5)) == [1.0, 0.5, 0.25]
    sched_lrs.clear()
    run(sched=lambda o: step(o, step_size=2, gamma=0.1), scheduler_interval="batch")
    # the lr a batch trained with, stepped after each batch: 1, 1, .1, .1, .01, .01, ...
    expected = [1.0 * 0.1 ** (i // 2) for i in range(9)]
    assert sched_lrs == pytest.approx(expected)
    assert run(cb=lambda o: LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))) == pytest.approx(
        [0.1, 0.05, 0.1 / 3])
    assert run(cb=lambda o: LearningRateScheduler(lambda epoch, lr: lr * 0.5)) == [0.5, 0.25, 0.125]
    plateau = dalam.optim.lr_scheduler.ReduceLROnPlateau
    lrs = run(cb=lambda o: LearningRateScheduler(plateau(o, factor=0.5, patience=0, threshold=10.0),
                                                  monitor="loss"))
    assert lrs == [1.0, 0.5, 0.25]  # the threshold makes every epoch a plateau
    with pytest.raises(ValueError, match="interval"):
        LearningRateScheduler(lambda e: 0.1, interval="batch")
    with pytest.raises(TypeError, match="schedule must be"):
        LearningRateScheduler(3)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the diverging run overflows on purpose
def test_terminate_on_nan_and_gradient_clipping():
    train, _ = loaders()
    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=1e30)  # diverges
    h = dalam.fit(model, train, nn.CrossEntropyLoss(), opt, epochs=5, callbacks=[TerminateOnNaN()],
                  verbose=0)
    assert len(h.epoch) == 1

    # max_grad_norm: the same as clip_grad_norm_ in a hand-written loop
    from dalam.nn.utils import clip_grad_norm_
    train, _ = loaders()
    dalam.manual_seed(1)
    a = mlp()
    dalam.fit(a, train, nn.CrossEntropyLoss(), dalam.optim.SGD(a.parameters(), lr=0.5), epochs=1,
              max_grad_norm=0.1, verbose=0)
    train, _ = loaders()
    dalam.manual_seed(1)
    b = mlp()
    ob = dalam.optim.SGD(b.parameters(), lr=0.5)
    for xb, yb in train:
        ob.zero_grad()
        nn.CrossEntropyLoss()(b(dalam.tensor(xb)), dalam.tensor(yb)).backward()
        clip_grad_norm_(b.parameters(), 0.1)
        ob.step()
    for (k, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(p._data, q._data), k


def test_multi_input_batches_numpy_batches_and_evaluate():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 3)
            self.b = nn.Linear(2, 3)

        def forward(self, x1, x2):
            return self.a(x1) + self.b(x2)

    x, y = blobs(64)
    batches = [(x[i:i + 16], x[i:i + 16] * 2, y[i:i + 16]) for i in range(0, 64, 16)]  # numpy batches
    model = Two()
    tr = Trainer(model, dalam.optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(),
                 metrics=["accuracy"], verbose=0)
    h = tr.fit(batches, epochs=3)
    assert h.history["loss"][-1] < h.history["loss"][0]
    ev = tr.evaluate(batches)
    assert set(ev) == {"loss", "accuracy"} and 0 <= ev["accuracy"] <= 1
    assert tr.evaluate(batches, prefix="test_").keys() == {"test_loss", "test_accuracy"}
    # the stand-alone evaluate: metrics only, or with a loss; the model's mode is restored
    model.train()
    res = dalam.train.evaluate(model, batches, metrics=["accuracy", "f1"])
    assert set(res) == {"accuracy", "f1"} and model.training
    assert res["accuracy"] == pytest.approx(ev["accuracy"])
    assert dalam.train.evaluate(model, batches, nn.CrossEntropyLoss())["loss"] == pytest.approx(ev["loss"])


def test_fit_errors_are_clear():
    train, _ = loaders()
    model = mlp()
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    ce = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match="each batch must be a pair"):
        dalam.fit(model, [dalam.zeros(4, 2)], ce, opt, verbose=0)
    with pytest.raises(ValueError, match="scalar Tensor"):
        dalam.fit(model, train, nn.CrossEntropyLoss(reduction="none"), opt, verbose=0)
    with pytest.raises(ValueError, match="no batches"):
        dalam.fit(model, [], ce, opt, verbose=0)
    with pytest.raises(ValueError, match="epochs must be"):
        dalam.fit(model, train, ce, opt, epochs=-1, verbose=0)
    with pytest.raises(TypeError, match="callbacks must be"):
        dalam.fit(model, train, ce, opt, callbacks=[print], verbose=0)
    with pytest.raises(TypeError, match="optimizer must be"):
        dalam.fit(model, train, ce, "adam", verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        dalam.fit(model, train, ce, opt, metrics=["acc_"], verbose=0)
    with pytest.raises(RuntimeError, match="Linear '0' \\(in_features=2"):  # the layer's own message
        dalam.fit(model, [(dalam.zeros(4, 5), dalam.tensor([0, 1, 2, 0]))], ce, opt, verbose=0)
    with pytest.raises(IndexError, match="out of range for 3 classes"):
        dalam.fit(model, [(dalam.zeros(4, 2), dalam.tensor([0, 1, 7, 0]))], ce, opt, verbose=0)
    other = dalam.optim.SGD(mlp().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different optimizer"):
        dalam.fit(model, train, ce, opt, scheduler=dalam.optim.lr_scheduler.StepLR(other, 1), verbose=0)


@pytest.mark.parametrize("shape,perm", [((1, 28, 28, 32), (0, 3, 1, 2)), ((128, 512), None),
                                        ((4, 3000), None), ((600, 600), None), ((8, 3, 200), "slice"),
                                        ((3, 40), None)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_fast_path_matches_plain_maximum(shape, perm, dtype):
    """The ReLU forward used by the benchmarked models (zeros laid out like the
    input, see docs/RESULTS.md) gives the values, NaN/-inf handling and memory
    layout of np.maximum(x, 0), for C-contiguous, NHWC-as-NCHW, non-dense,
    small and large inputs, and its gradient is unchanged."""
    import torch
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    a.reshape(-1)[:3] = [np.nan, -np.inf, np.inf]
    x = a.transpose(perm) if isinstance(perm, tuple) else (a[:, :, ::3] if perm == "slice" else a)
    t = dalam.from_numpy(x).requires_grad_(True)  # keeps x's memory layout
    assert t._data.strides == x.strides
    y = dalam.relu(t)
    ref = np.maximum(x, 0)
    assert y.dtype == dtype and y._data.strides == ref.strides
    assert np.array_equal(y._data, ref, equal_nan=True)
    np.testing.assert_array_equal(y._data, torch.relu(torch.from_numpy(x)).numpy())
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    y.backward(dalam.tensor(g))
    assert np.array_equal(t.grad._data, g * (ref > 0))


def test_importing_ipykernel_is_not_a_notebook(capsys):
    """nbclient (and jupyter_client) import ipykernel into a plain process; progress must still go to
    the pipe as one line per epoch there, not to a notebook bar."""
    import ipykernel  # noqa: F401
    train, val = loaders()
    model = mlp()
    dalam.fit(model, train, nn.CrossEntropyLoss(), dalam.optim.SGD(model.parameters(), lr=0.1), epochs=2,
              val_loader=val, verbose=1)
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
