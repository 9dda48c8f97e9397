"""Where dalam used to be stricter than PyTorch and public programs notice:
channel dropout on other ranks (PyTorch warns and proceeds) and transforms
the DataLoader applies (a user's Lambda sees one sample, as in torchvision)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.data import DataLoader, transforms as T


def _mask_pattern(y):
    """Which entries are zero, up to which draws: shape of the dropped blocks."""
    return (y == 0)


@pytest.mark.parametrize("fname,shape,blocks", [
    ("dropout2d", (4, 5), (4, 5)), ("dropout2d", (2, 4, 5), (2, 4, 1)),
    ("dropout2d", (2, 3, 4, 5), (2, 3, 1, 1)), ("dropout2d", (1, 2, 3, 4, 5), (1, 2, 1, 1, 1)),
    ("dropout1d", (2, 4, 5), (2, 4, 1)), ("dropout1d", (4, 5), (4, 1)),
    ("dropout3d", (2, 3, 4, 5, 6), (2, 3, 1, 1, 1)), ("dropout3d", (3, 4, 5, 6), (3, 1, 1, 1)),
    ("dropout3d", (4, 5), (4, 1))])
def test_channel_dropout_ranks_match_torch(fname, shape, blocks):
    outs = []
    for L, FF in ((dalam, F), (torch, TF)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x = L.ones(*shape)
            y = getattr(FF, fname)(x, 0.5, training=True)
        outs.append((tuple(y.shape), len(w) > 0))
        z = y.numpy() == 0
        # every block of the mask is constant: dropped or kept as a whole
        red = tuple(i for i, b in enumerate(blocks) if b == 1)
        if red:
            assert np.all(z.all(red) == z.any(red)), (L.__name__, fname, shape)
        kept = y.numpy()[~z]
        np.testing.assert_allclose(kept, 2.0)
    assert outs[0] == outs[1], f"{fname}{shape}: dalam {outs[0]} vs torch {outs[1]}"


def test_channel_dropout_errors_and_modules():
    for L, FF in ((dalam, F), (torch, TF)):
        with pytest.raises(RuntimeError):
            FF.dropout1d(L.ones(2, 3, 4, 5), 0.5)
        with pytest.raises(RuntimeError):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                FF.dropout2d(L.ones(5), 0.5)
    with pytest.warns(UserWarning, match="2-D input"):
        y = nn.Dropout2d(0.5)(dalam.ones(8, 16))
    assert y.shape == (8, 16)
    m = nn.Dropout3d(0.5)
    m.eval()
    assert m(dalam.ones(1, 2, 3, 4, 5)).sum().item() == 120
    x = dalam.ones(2, 4, 5, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = F.dropout2d(x, 0.25)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


class _Images(dalam.data.Dataset):
    def __init__(self):
        self.x = np.arange(6 * 4 * 4, dtype=np.float32).reshape(6, 1, 4, 4)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], i


def test_lambda_transform_sees_one_sample_in_the_dataloader():
    from dalam.datasets import MNIST
    seen = []

    def flat(x):
        seen.append(tuple(x.shape))
        return dalam.flatten(x)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(flat)])
    ds = MNIST(train=False, subset=True, transform=tf)
    xb, yb = next(iter(DataLoader(ds, batch_size=8)))
    assert xb.shape == (8, 784) and yb.shape == (8,)
    assert seen and all(s == (1, 28, 28) for s in seen)
    # the batched fast path (no Lambda) gives what per-sample calls give
    tf2 = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds2 = MNIST(train=False, subset=True, transform=tf2)
    xb2, _ = next(iter(DataLoader(ds2, batch_size=8)))
    one = dalam.stack([ds2[i][0] for i in range(8)])
    np.testing.assert_allclose(xb2.numpy(), one.numpy(), rtol=1e-6)
    # a plain function as the transform: one sample too
    ds3 = MNIST(train=False, subset=True, transform=lambda im: dalam.tensor(np.asarray(im).ravel() / 255.0))
    xb3, _ = next(iter(DataLoader(ds3, batch_size=4)))
    assert xb3.shape == (4, 784)
