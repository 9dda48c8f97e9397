"""Few-shot learning (issue 18): Omniglot and its one-shot runs, the episode
sampler, max-pool double backward, MAML's second-order meta-gradient against
finite differences and PyTorch, each method learning on a tiny synthetic
set, and the evaluation protocol on hand-made runs."""
import io
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.autograd import grad, gradcheck
from dalam.data import EpisodeSampler, split_episode
from dalam.datasets import Omniglot, OmniglotRuns, OmniglotFormatError
from dalam.datasets.omniglot import find_zip, RESOURCES
from dalam.fewshot import (PrototypicalNetwork, SiameseNetwork, MAML, conv4, evaluate_runs,
                           episode_accuracy, mean_ci95, random_shift)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _have_data():
    try:
        return all(find_zip(n, download=False) for n in ("runs", "background_small1", "background_small2"))
    except FileNotFoundError:
        return False


HAVE_DATA = _have_data()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="Omniglot zips not available (see data README)")


# ----------------------------------------------------------------- dataset
@needs_data
def test_omniglot_background_set_with_rotations_as_classes():
    ds = Omniglot(split="background_small1", rotations=(0, 90, 180, 270))
    assert ds.data.dtype == np.uint8 and ds.data.shape == (136 * 20 * 4, 28, 28)
    assert ds.num_classes == 136 * 4 and len(ds.alphabet_names) == 5
    assert np.bincount(ds.targets).tolist() == [20] * 544
    # class c*4+k is character c rotated by 90k degrees: same drawings, rotated
    base = ds.data[ds.targets == 0]
    rot = ds.data[ds.targets == 1]
    np.testing.assert_array_equal(rot, np.rot90(base, 1, axes=(1, 2)))
    assert ds.classes[1] == ds.classes[0] + "/rot90"
    # ink is high: a stroke image is mostly background 0
    assert ds.data.mean() < 60 and ds.data.max() == 255
    img, y = ds[5]
    assert img.shape == (28, 28) and y == int(ds.targets[5])
    # one alphabet per class, and the same alphabet for its rotations
    for c in range(0, 544, 97):
        assert len(np.unique(ds.alphabets[ds.targets == c])) == 1


@needs_data
def test_omniglot_runs_follow_class_labels_file():
    runs = OmniglotRuns(image_size=105)
    assert len(runs) == 20
    r = runs[0]
    assert r["support"].shape == (20, 105, 105) and r["query"].shape == (20, 105, 105)
    with zipfile.ZipFile(find_zip("runs")) as z:
        first = z.read("run01/class_labels.txt").decode().split("\n")[0].split()
    # "run01/test/item01.png run01/training/class08.png"
    assert first[0].endswith("item01.png") and int(re.search(r"class(\d+)", first[1]).group(1)) - 1 == r["labels"][0]
    for run in runs:
        assert sorted(run["labels"].tolist()) == list(range(20))  # one test drawing per character
    x, y = OmniglotRuns(image_size=28).characters()
    assert x.shape == (800, 28, 28) and np.bincount(y).tolist() == [2] * 400


def _png(size=(105, 105), mode="1"):
    from PIL import Image
    buf = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else 255).save(buf, format="PNG")
    return buf.getvalue()


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


@pytest.mark.parametrize("png,what", [(_png((50, 60)), "is 50x60 pixels, expected 105x105"),
                                      (_png(mode="RGB"), "mode 'RGB'"),
                                      (b"\x89PNG not really", "not a readable PNG")],
                         ids=["size", "mode", "corrupt"])
def test_omniglot_bad_png_names_the_file(tmp_path, png, what):
    good = _png()
    _zip(tmp_path / RESOURCES["background_small1"][0],
         {"images_background_small1/Alpha/character01/a.png": good,
          "images_background_small1/Alpha/character01/b.png": png})
    with pytest.raises(OmniglotFormatError) as e:
        Omniglot(tmp_path, split="background_small1", download=False)
    assert "character01/b.png" in str(e.value) and what in str(e.value)


def test_omniglot_synthetic_zip_and_missing_file(tmp_path):
    files = {f"images_background_small1/A{a}/character0{c}/{d}.png": _png() for a in range(2)
             for c in range(1, 3) for d in range(3)}
    _zip(tmp_path / "images_background_small1.zip", files)
    ds = Omniglot(tmp_path, split="background_small1", image_size=105, rotations=(0, 180), download=False)
    assert ds.data.shape == (24, 105, 105) and ds.num_classes == 8 and ds.alphabet_names == ["A0", "A1"]
    with pytest.raises(FileNotFoundError, match="images_background_small2.zip not found"):
        Omniglot(tmp_path, split="background_small2", download=False)
    # the two minimal sets share alphabets (Greek, Latin): "both" counts a shared character once
    files2 = {f"images_background_small2/A{a}/character0{c}/{d}.png": _png() for a in (1, 2)
              for c in range(1, 3) for d in range(3)}
    _zip(tmp_path / "images_background_small2.zip", files2)
    both = Omniglot(tmp_path, split="background_small", download=False)
    assert both.num_classes == 6 and both.alphabet_names == ["A0", "A1", "A2"] and len(both) == 18
    with pytest.raises(ValueError, match="image_size"):
        Omniglot(tmp_path, split="background_small1", image_size=200)
    with pytest.raises(ValueError, match="unknown split"):
        Omniglot(tmp_path, split="train")


@needs_data
def test_omniglot_download_checks_md5(tmp_path):
    src = os.path.dirname(str(find_zip("background_small2")))
    got = find_zip("background_small2", root=tmp_path, mirror=f"file://{src}/")
    assert got == tmp_path / "omniglot" / "images_background_small2.zip" and got.is_file()
    # a mirror serving another file: MD5 mismatch, nothing left under the real name
    os.makedirs(tmp_path / "bad")
    with open(tmp_path / "bad" / "images_background_small1.zip", "wb") as f:
        f.write(b"not the zip")
    with pytest.raises(RuntimeError, match="MD5"):
        find_zip("background_small1", root=tmp_path / "r", mirror=f"file://{tmp_path}/bad/")
    assert not (tmp_path / "r" / "omniglot" / "images_background_small1.zip").exists()


# ----------------------------------------------------------------- sampler
def test_episode_sampler_shapes_seed_and_disjoint_split():
    labels = np.repeat(np.arange(10), 7)
    groups = labels // 5
    s = EpisodeSampler(labels, n_way=4, k_shot=2, n_query=3, episodes=5, seed=3)
    eps = list(s)
    assert len(eps) == 5 and all(len(e) == 4 * 5 for e in eps)
    assert eps == list(EpisodeSampler(labels, 4, 2, 3, episodes=5, seed=3))
    assert eps != list(EpisodeSampler(labels, 4, 2, 3, episodes=5, seed=4))
    for e in eps:
        e = np.asarray(e)
        assert len(set(e.tolist())) == len(e)  # support and query never share an item
        sup, qry = labels[e[:8]].reshape(4, 2), labels[e[8:]].reshape(4, 3)
        assert (sup == sup[:, :1]).all() and (qry == sup[:, :1]).all()  # way-major, same ways
        assert len(set(sup[:, 0].tolist())) == 4
    s.set_epoch(1)
    assert list(s) != eps
    for e in EpisodeSampler(labels, 3, 1, 1, episodes=20, groups=groups, same_group=True):
        assert len(set(groups[e].tolist())) == 1
    x = dalam.arange(20)
    sx, sy, qx, qy = split_episode(x, 4, 2, 3)
    assert sx.shape == (8,) and qx.shape == (12,)
    assert sy.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and qy.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3


def test_episode_sampler_bad_input():
    labels = np.repeat(np.arange(5), 3)
    with pytest.raises(ValueError, match=r"fewer than k_shot \+ n_query = 2 \+ 2 = 4 examples.*lower k_shot"):
        EpisodeSampler(labels, 2, 2, 2)
    with pytest.raises(ValueError, match="n_way = 6 but the labels have only 5 classes"):
        EpisodeSampler(labels, 6, 1, 1)
    with pytest.raises(ValueError, match="k_shot must be an int >= 1"):
        EpisodeSampler(labels, 2, 0, 1)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        EpisodeSampler(labels, 2, 1, 1, groups=[0, 1, 2], same_group=True)
    with pytest.raises(ValueError, match="split_episode: batch has 5 items"):
        split_episode(dalam.arange(5), 2, 1, 1)


# ------------------------------------------------------- max-pool double backward
POOLS = {"2x2": dict(kernel_size=2), "3x3_s2_p1": dict(kernel_size=3, stride=2, padding=1)}


@pytest.mark.parametrize("name", list(POOLS))
def test_max_pool_double_backward_gradcheck_and_torch(name):
    kw = POOLS[name]
    rng = np.random.default_rng(1)
    x0, cot, v = rng.standard_normal((2, 3, 6, 5)), None, None
    y_shape = tuple(F.max_pool2d(dalam.tensor(x0), **kw).shape)
    cot, v = rng.standard_normal(y_shape), rng.standard_normal(x0.shape)

    def first_grad(x, c):  # d <pool(x)^2, c> / dx as a graph
        with dalam.enable_grad():
            y = F.max_pool2d(x, **kw)
            return grad((y * y * c).sum(), [x], create_graph=True)[0]

    x = dalam.tensor(x0, requires_grad=True)
    c = dalam.tensor(cot, requires_grad=True)
    assert gradcheck(lambda a, b: first_grad(a, b), (x, c))
    # parity with torch: the gradient and the gradient of <gradient, v>
    g = first_grad(x, c)
    gg = grad((g * dalam.tensor(v)).sum(), [x, c])
    xt = torch.tensor(x0, requires_grad=True)
    ct = torch.tensor(cot, requires_grad=True)
    yt = TF.max_pool2d(xt, **kw)
    gt = torch.autograd.grad((yt * yt * ct).sum(), xt, create_graph=True)[0]
    ggt = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt, ct])
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), atol=1e-12)
    for a, b in zip(gg, ggt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


# ------------------------------------------------------- MAML meta-gradient
def _tiny_maml(first_order=False, steps=2):
    dalam.manual_seed(0)
    enc = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2, track_running_stats=False), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten())
    return MAML(enc, 2 * 3 * 3, max_way=3, inner_lr=0.3, inner_steps=steps, first_order=first_order).double()


def _task(seed=0):
    rng = np.random.default_rng(seed)
    sx, qx = rng.standard_normal((3, 1, 6, 6)), rng.standard_normal((6, 1, 6, 6))
    return sx, np.array([0, 1, 2]), qx, np.array([0, 1, 2, 0, 1, 2])


def _meta_loss(model, params, task, n_way=3):
    sx, sy, qx, qy = task
    adapted = model.adapt(dalam.tensor(sx), dalam.tensor(sy), n_way, params=params)
    return F.cross_entropy(model.functional_forward(adapted, dalam.tensor(qx), n_way), dalam.tensor(qy))


def test_maml_second_order_meta_gradient_equals_finite_differences_and_torch():
    model = _tiny_maml()
    names = [k for k, _ in model.named_parameters()]
    init = [p.detach().numpy().copy() for _, p in model.named_parameters()]
    task = _task()
    leaves = [dalam.tensor(a, requires_grad=True) for a in init]

    def fn(*ps):
        return _meta_loss(model, dict(zip(names, ps)), task)
    assert gradcheck(fn, leaves, eps=1e-6, atol=1e-6, rtol=1e-4)  # float64 finite differences

    loss = fn(*leaves)
    ours = grad(loss, leaves)
    # PyTorch: the same network written with torch.func.functional_call, create_graph=True
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1),
                               torch.nn.BatchNorm2d(2, track_running_stats=False), torch.nn.ReLU(),
                               torch.nn.MaxPool2d(2), torch.nn.Flatten()).double()
    tp = {n: torch.tensor(a, requires_grad=True) for n, a in zip(names, init)}
    params = dict(tp)
    sx, sy, qx, qy = (torch.tensor(a) for a in task)

    def tforward(p, x):
        enc = {k[8:]: v for k, v in p.items() if k.startswith("encoder.")}
        z = torch.func.functional_call(tnet, enc, (x,))
        return TF.linear(z, p["head.weight"][:3], p["head.bias"][:3])
    for _ in range(2):
        inner = TF.cross_entropy(tforward(params, sx), sy)
        g = torch.autograd.grad(inner, list(params.values()), create_graph=True)
        params = {k: v - 0.3 * gi for (k, v), gi in zip(params.items(), g)}
    tloss = TF.cross_entropy(tforward(params, qx), qy)
    theirs = torch.autograd.grad(tloss, list(tp.values()))
    assert abs(loss.item() - tloss.item()) < 1e-12
    for n, a, b in zip(names, ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)


def test_first_order_maml_gradient_is_query_gradient_at_adapted_weights():
    model = _tiny_maml(first_order=True, steps=1)
    sx, sy, qx, qy = _task(1)
    loss, _ = model.meta_loss([(dalam.tensor(sx), dalam.tensor(sy), dalam.tensor(qx), dalam.tensor(qy), 3)])
    loss.backward()
    fo = [p.grad.numpy().copy() for p in model.parameters()]
    adapted = {k: v.detach().requires_grad_() for k, v in
               model.adapt(dalam.tensor(sx), dalam.tensor(sy), 3, second_order=False).items()}
    ql = F.cross_entropy(model.functional_forward(adapted, dalam.tensor(qx), 3), dalam.tensor(qy))
    direct = grad(ql, list(adapted.values()))
    for a, b in zip(fo, direct):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-14)
    # and it differs from the second-order meta-gradient
    so = _tiny_maml(first_order=False, steps=1)
    l2, _ = so.meta_loss([(dalam.tensor(sx), dalam.tensor(sy), dalam.tensor(qx), dalam.tensor(qy), 3)])
    l2.backward()
    assert max(np.abs(a - p.grad.numpy()).max() for a, p in zip(fo, so.parameters())) > 1e-6


# ------------------------------------------------------- methods learn a little
def _synthetic(n_classes=12, per_class=8, size=28, seed=0):
    """Classes = random blob patterns; examples = shifted, noisy copies."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((n_classes, size // 4, size // 4)) > 0.6).astype(np.uint8) * 255
    protos = protos.repeat(4, 1).repeat(4, 2)
    imgs = []
    for c in range(n_classes):
        x = random_shift(np.repeat(protos[c:c + 1], per_class, 0), 1, rng).astype(np.int16)
        x += rng.integers(-40, 40, x.shape)
        imgs.append(np.clip(x, 0, 255).astype(np.uint8))
    return np.concatenate(imgs), np.repeat(np.arange(n_classes), per_class)


def _train_eval(model, step, episodes, lr=3e-3):
    x, y = _synthetic()
    ex, ey = _synthetic(seed=1)  # new classes for evaluation
    before = episode_accuracy(model, ex, ey, 5, 1, 2, episodes=30, seed=5)[0]
    opt = dalam.optim.Adam(model.parameters(), lr=lr)
    s = EpisodeSampler(y, 5, 1, 2, episodes=episodes, seed=0)
    rng = np.random.default_rng(0)
    losses = []
    for idx in s:
        loss = step(model, x, y, np.asarray(idx), rng)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    after = episode_accuracy(model, ex, ey, 5, 1, 2, episodes=30, seed=5)[0]
    return before, after, losses


SY, QY = dalam.tensor(np.repeat(np.arange(5), 1)), dalam.tensor(np.repeat(np.arange(5), 2))


def test_protonet_learns_new_classes():
    dalam.manual_seed(0)
    step = lambda m, x, y, idx, rng: m.loss(x[idx[:5]], SY, x[idx[5:]], QY, 5)[0]  # noqa: E731
    before, after, _ = _train_eval(PrototypicalNetwork(conv4(hidden=8)), step, 30)
    assert after > 0.8 and after > before + 0.1, (before, after)


def test_siamese_learns_new_classes():
    dalam.manual_seed(0)

    def step(m, x, y, idx, rng):
        i1, i2, same = m.sample_pairs(y, 32, rng)
        return m.loss(x[i1], x[i2], same)[0]
    model = SiameseNetwork(conv4(hidden=8))
    before, after, _ = _train_eval(model, step, 30)
    assert after > 0.8 and after > before + 0.1, (before, after)
    i1, i2, same = model.sample_pairs(np.repeat(np.arange(4), 3), 10, np.random.default_rng(0),
                                      groups=np.repeat([0, 0, 1, 1], 3))
    lab, grp = np.repeat(np.arange(4), 3), np.repeat([0, 0, 1, 1], 3)
    assert (lab[i1[:5]] == lab[i2[:5]]).all() and (lab[i1[5:]] != lab[i2[5:]]).all()
    assert (grp[i1] == grp[i2]).all() and same.tolist() == [1] * 5 + [0] * 5


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_learns_new_classes(first_order):
    dalam.manual_seed(0)
    model = MAML(conv4(hidden=8, track_running_stats=False), 8, max_way=5, inner_lr=0.4, inner_steps=3,
                 first_order=first_order)

    def step(m, x, y, idx, rng):
        return m.meta_loss([(x[idx[:5]], SY, x[idx[5:]], QY, 5)])[0]
    before, after, losses = _train_eval(model, step, 30, lr=1e-2)
    # adaptation alone already separates these easy classes; meta-training makes the
    # adapted weights' query loss fall and the accuracy on new classes rise
    assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:8]), losses
    assert after > 0.8 and after > before, (before, after)


# ------------------------------------------------------- evaluation protocol
class _Oracle:
    """Scores by looking the answer up in a table: right except on chosen items."""
    training = False

    def __init__(self, answers):
        self.answers, self.calls = answers, 0

    def predict(self, sx, sy, qx, n_way):
        s = np.zeros((len(qx), n_way))
        s[np.arange(len(qx)), self.answers[self.calls]] = 1
        self.calls += 1
        return s


def test_evaluate_runs_counts_errors_over_all_items():
    rng = np.random.default_rng(0)
    runs, answers = [], []
    for r in range(3):
        labels = rng.permutation(4)
        runs.append({"support": np.zeros((4, 28, 28), np.uint8), "query": np.zeros((4, 28, 28), np.uint8),
                     "labels": labels})
        a = labels.copy()
        if r < 2:
            a[0] = (a[0] + 1) % 4  # one mistake in each of the first two runs
        answers.append(a)
    res = evaluate_runs(_Oracle(answers), runs)
    assert res["items"] == 12 and res["errors_per_run"] == [1, 1, 0] and res["error"] == 2 / 12


def test_mean_ci95_and_episode_accuracy_of_a_perfect_matcher():
    m, ci = mean_ci95([0.5, 1.0, 0.75, 0.25])
    assert m == 0.625 and abs(ci - 1.96 * np.std([0.5, 1.0, 0.75, 0.25], ddof=1) / 2) < 1e-12

    class Matcher:  # exact-image nearest neighbour: perfect on noiseless copies
        def predict(self, sx, sy, qx, n_way):
            d = ((qx.reshape(len(qx), 1, -1).astype(float) - sx.reshape(1, len(sx), -1)) ** 2).sum(-1)
            return -np.stack([d[:, np.asarray(sy.tolist()) == c].min(1) for c in range(n_way)], 1)
    imgs = np.repeat(np.random.default_rng(0).integers(0, 255, (6, 28, 28), dtype=np.uint8), 3, 0)
    acc, ci, per = episode_accuracy(Matcher(), imgs, np.repeat(np.arange(6), 3), 5, 1, 2, episodes=10)
    assert acc == 1.0 and ci == 0.0 and len(per) == 10
    with pytest.raises(ValueError, match="fewer than k_shot"):
        episode_accuracy(Matcher(), imgs, np.repeat(np.arange(6), 3), 5, 5, 1)


@needs_data
def test_example_quick_runs():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    for method in ("protonet",):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "fewshot_omniglot.py"), "--quick",
                            "--method", method, "--sets", "small2"], env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"original task .*error [\d.]+% over 400 items", r.stdout), r.stdout


def test_maml_zero_head_serves_any_number_of_ways():
    dalam.manual_seed(0)
    m = MAML(conv4(hidden=4, track_running_stats=False), 4, max_way=5, zero_head=True)
    x, y = _synthetic(n_classes=7, per_class=2)
    s = m.predict(x[::2], dalam.tensor(np.arange(7)), x[1::2], 7)
    assert tuple(s.shape) == (7, 7)
    fixed = MAML(conv4(hidden=4, track_running_stats=False), 4, max_way=5)
    with pytest.raises(ValueError, match="7-way task needs a head with at least 7 outputs"):
        fixed.predict(x[::2], dalam.tensor(np.arange(7)), x[1::2], 7)
