"""dalam.robust: FGSM / PGD against PyTorch and against the exact answer for
linear models, their invariants (input untouched, eps ball, pixel range,
model state untouched) and adversarial training on a toy problem."""
import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn
from dalam.robust import adversarial_step, adversarial_training, fgsm, pgd, robust_accuracy

from conftest import to_torch


def tiny_cnn(seed=0, bn=False):
    dalam.manual_seed(seed)
    layers = [nn.Conv2d(1, 4, 3, padding=1)]
    if bn:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)]
    return nn.Sequential(*layers)


def torch_twin(model):
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                             torch.nn.Linear(4 * 8 * 8, 3))
    tm.load_state_dict({k: to_torch(v) for k, v in model.state_dict().items()})
    return tm


def batch(n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 8, 8), dtype=np.float32), rng.integers(0, 3, n)


def test_fgsm_matches_torch():
    model = tiny_cnn()
    x, y = batch()
    xt = torch.tensor(x, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch_twin(model)(xt), torch.tensor(y), reduction="sum")
    (g,) = torch.autograd.grad(loss, xt)
    expect = (xt + 0.1 * g.sign()).clamp(0, 1).detach().numpy()
    got = fgsm(model, dalam.tensor(x), dalam.tensor(y), 0.1)
    assert isinstance(got, dalam.Tensor) and got.dtype == np.float32 and not got.requires_grad
    np.testing.assert_allclose(got.numpy(), expect, atol=1e-6)


@pytest.mark.parametrize("attack,kw", [(fgsm, {}), (pgd, {"steps": 5}), (pgd, {"norm": 2, "steps": 5}),
                                       (pgd, {"steps": 3, "random_start": False})])
def test_attack_invariants(attack, kw):
    model = tiny_cnn()
    x, y = batch()
    xt, yt = dalam.tensor(x), dalam.tensor(y)
    x_before = x.copy()
    eps = 0.3 if kw.get("norm") != 2 else 1.0
    adv = attack(model, xt, yt, eps, **kw)
    np.testing.assert_array_equal(xt.numpy(), x_before)  # the input tensor is not modified
    np.testing.assert_array_equal(x, x_before)
    a = adv.numpy()
    assert a.dtype == np.float32 and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1  # valid pixel range
    d = (a - x).reshape(len(x), -1)
    if kw.get("norm") == 2:
        assert np.sqrt((d.astype(np.float64) ** 2).sum(1)).max() <= eps * (1 + 1e-5)
    else:
        assert np.abs(d).max() <= eps + 1e-6
    assert np.abs(d).max() > 0.5 * (eps if kw.get("norm") != 2 else 0.1)  # it moved
    # a numpy array in gives an array out, also unmodified
    arr_adv = attack(model, x, y, eps, **kw)
    assert isinstance(arr_adv, np.ndarray)
    np.testing.assert_array_equal(x, x_before)


def test_pgd_stays_in_ball_with_big_steps():
    model = tiny_cnn()
    x, y = batch()
    for norm, eps in (("inf", 0.05), (2, 0.3)):
        adv = pgd(model, x, y, eps, norm=norm, steps=4, step_size=1.0)
        d = (adv - x).reshape(len(x), -1).astype(np.float64)
        size = np.abs(d).max(1) if norm == "inf" else np.sqrt((d ** 2).sum(1))
        assert size.max() <= eps * (1 + 1e-5) + 1e-7
        assert size.min() > 0.9 * eps  # big steps end on the boundary (or a box face)


def test_pgd_one_step_from_centre_is_fgsm():
    model = tiny_cnn()
    x, y = batch()
    a = pgd(model, x, y, 0.1, steps=1, step_size=0.1, random_start=False)
    np.testing.assert_allclose(a, fgsm(model, x, y, 0.1), atol=1e-7)


def test_pgd_raises_loss_more_than_fgsm():
    model = tiny_cnn()
    x, y = batch(32)
    ce = lambda xx: float(nn.functional.cross_entropy(model(dalam.tensor(xx)), dalam.tensor(y)).item())  # noqa
    l0, l1 = ce(x), ce(fgsm(model, x, y, 0.1))
    l2 = ce(pgd(model, x, y, 0.1, steps=20, generator=np.random.default_rng(0)))
    assert l0 < l1 <= l2 + 1e-6


def test_model_state_untouched():
    model = tiny_cnn(bn=True)
    model.train()
    model[2].eval()  # a mixed state must come back as it was
    frozen = model[0].bias
    frozen.requires_grad_(False)
    w = model[0].weight
    w.grad = dalam.ones(*w.shape)
    grad_arr = w.grad._data.copy()
    bn_mean = model[1].running_mean._data.copy()
    x, y = batch()
    pgd(model, x, y, 0.1, steps=2)
    fgsm(model, x, y, 0.1)
    robust_accuracy(model, x, y, "pgd", eps=0.1, steps=2)
    assert model.training and model[1].training and not model[2].training and model[4].training
    assert not frozen.requires_grad and w.requires_grad and model[4].weight.requires_grad
    np.testing.assert_array_equal(w.grad._data, grad_arr)
    assert model[4].weight.grad is None
    np.testing.assert_array_equal(model[1].running_mean._data, bn_mean)  # attacks run in eval mode


def linear_problem(d=20, n=200, seed=0):
    rng = np.random.default_rng(seed)
    dalam.manual_seed(seed)
    model = nn.Linear(d, 2)
    x = rng.random((n, d), dtype=np.float32)
    y = model(dalam.tensor(x))._data.argmax(1)
    y[:20] = 1 - y[:20]  # a few wrong ones
    return model, x, y


def test_robust_accuracy_exact_for_linear_model():
    """For a linear 2-class model the L-inf attack is known exactly: the
    margin drops by eps * ||w_y - w_other||_1, so FGSM is optimal."""
    model, x, y = linear_problem()
    W, b = model.weight._data.astype(np.float64), model.bias._data.astype(np.float64)
    logits = x @ W.T + b
    margin = logits[np.arange(len(y)), y] - logits[np.arange(len(y)), 1 - y]
    l1 = np.abs(W[0] - W[1]).sum()
    for eps in (0.01, 0.03, 0.1):
        expect = np.mean((margin > 0) & (margin - eps * l1 > 0))
        r = robust_accuracy(model, x, y, "fgsm", eps=eps, clip=None)
        assert r["robust_accuracy"] == pytest.approx(expect)
        assert r["clean_accuracy"] == pytest.approx(np.mean(margin > 0))
        r = robust_accuracy(model, x, y, "pgd", eps=eps, clip=None, steps=10, random_start=True,
                            batch_size=64)
        assert r["robust_accuracy"] == pytest.approx(expect)


def test_targeted_attack_moves_towards_target():
    model, x, y = linear_problem()
    target = np.ones(len(x), np.int64)
    adv = pgd(model, x, target, 0.2, steps=10, targeted=True, clip=None)
    pred = model(dalam.tensor(adv))._data.argmax(1)
    assert (pred == 1).mean() > (model(dalam.tensor(x))._data.argmax(1) == 1).mean()


def toy_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 16), dtype=np.float32)
    y = (x[:, :8].mean(1) > x[:, 8:].mean(1)).astype(np.int64)
    return x, y


def test_adversarial_training_improves_robustness():
    xtr, ytr = toy_data(512, 0)
    xte, yte = toy_data(256, 1)
    results = {}
    for eps_train in (0.0, 0.1):
        dalam.manual_seed(3)
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
        model.eval()
        opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
        hist = adversarial_training(model, opt, (xtr, ytr), epochs=8, eps=eps_train, steps=3,
                                    batch_size=64, seed=0)
        assert len(hist) == 8 and not model.training  # its own mode again
        results[eps_train] = robust_accuracy(model, xte, yte, "pgd", eps=0.1, steps=10)["robust_accuracy"]
    assert results[0.1] > results[0.0] + 0.1, results


def test_adversarial_step_reports_and_updates():
    model = tiny_cnn()
    x, y = batch(8)
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    before = model[0].weight._data.copy()
    logs = adversarial_step(model, opt, x, y, 0.1, steps=2)
    assert set(logs) == {"loss", "adv_accuracy"} and logs["loss"] > 0
    assert not np.array_equal(before, model[0].weight._data)


def test_bad_arguments():
    model = tiny_cnn()
    x, y = batch()
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, x, y, -1)
    with pytest.raises(ValueError, match="norm"):
        pgd(model, x, y, 0.1, norm=3)
    with pytest.raises(TypeError, match="floating-point"):
        fgsm(model, (x * 255).astype(np.uint8), y, 0.1)
    with pytest.raises(ValueError, match="labels"):
        fgsm(model, x, y[:2], 0.1)
    with pytest.raises(ValueError, match="unknown attack"):
        robust_accuracy(model, x, y, "cw")


def test_adversarial_loader_with_fit():
    from dalam.data import DataLoader, TensorDataset
    from dalam.robust import AdversarialLoader
    xtr, ytr = toy_data(512, 0)
    loader = DataLoader(TensorDataset(dalam.tensor(xtr), dalam.tensor(ytr)), batch_size=64, shuffle=True)
    dalam.manual_seed(3)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
    adv = AdversarialLoader(loader, model, eps=0.1, steps=3)
    assert len(adv) == len(loader) and adv.batch_size == 64
    seen = []
    for xa, ya in AdversarialLoader(loader, model, eps=0.1, steps=3, include_clean=True):
        n = len(xa) // 2
        d = np.abs(xa._data[n:] - xa._data[:n]).max()  # the adversarial half is within eps of the clean half
        assert 0 < d <= 0.1 + 1e-6 and np.array_equal(ya._data[:n], ya._data[n:])
        seen.append(n)
    assert sum(seen) == 512
    before = robust_accuracy(model, xtr, ytr, "pgd", eps=0.03, steps=5)["robust_accuracy"]
    opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
    adv = AdversarialLoader(loader, model, eps=0.03, steps=3)
    hist = dalam.fit(model, adv, nn.CrossEntropyLoss(), opt, epochs=8, verbose=False)
    assert len(hist["loss"]) == 8 and hist["loss"][-1] < hist["loss"][0]
    after = robust_accuracy(model, xtr, ytr, "pgd", eps=0.03, steps=5)["robust_accuracy"]
    assert after > before + 0.1, (before, after)
    with pytest.raises(ValueError, match="unknown attack"):
        AdversarialLoader(loader, model, eps=0.1, attack="cw")
