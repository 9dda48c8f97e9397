"""LeNet-5 and the small ResNet: PyTorch parity (same state_dict -> same outputs and
gradients, train and eval mode), shapes for 1x28x28 and 3x32x32, summary() totals,
and a few optimisation steps that lower the loss."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import dalam
import dalam.nn.functional as F
from dalam.models import LeNet5, ResNet, resnet8
from conftest import assert_close


class TorchLeNet5(tnn.Module):
    def __init__(self, in_channels=1, pad=2, side=5):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(in_channels, 6, 5, padding=pad), tnn.ReLU(),
                                       tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
        self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(16 * side * side, 120), tnn.ReLU(),
                                         tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class TorchBlock(tnn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.conv1 = tnn.Conv2d(i, o, 3, s, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(o)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(o)
        self.downsample = None
        if s != 1 or i != o:
            self.downsample = tnn.Sequential(tnn.Conv2d(i, o, 1, s, bias=False), tnn.BatchNorm2d(o))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet(tnn.Module):
    def __init__(self, layers, widths, in_channels):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(widths[0])
        self.relu = tnn.ReLU()
        p = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(TorchBlock(p, w, 2 if i > 0 and j == 0 else 1))
                p = w
            setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
        self.n = len(layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(p, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.n):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _load(tm, m):
    sd = m.state_dict()
    assert list(sd) == list(tm.state_dict())
    tm.load_state_dict({k: torch.tensor(np.array(v._data)) for k, v in sd.items()})


def _compare(m, tm, shape, rtol=1e-4, atol=1e-5):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0])
    out = m(dalam.tensor(x))
    tout = tm(torch.tensor(x))
    assert_close(out, tout, rtol=rtol, atol=atol, msg="logits")
    F.cross_entropy(out, dalam.tensor(y)).backward()
    TF.cross_entropy(tout, torch.tensor(y)).backward()
    tp = dict(tm.named_parameters())
    for n, p in m.named_parameters():
        assert_close(p.grad, tp[n].grad, rtol=1e-3, atol=1e-5, msg=n)


@pytest.mark.parametrize("in_ch,size,side", [(1, 28, 5), (3, 32, 5)])
def test_lenet_matches_torch(in_ch, size, side):
    m = LeNet5(in_channels=in_ch, input_size=size)
    tm = TorchLeNet5(in_ch, 2 if size == 28 else 0, side)
    _load(tm, m)
    assert sum(p.numel() for p in m.parameters()) == sum(p.numel() for p in tm.parameters())
    _compare(m, tm, (3, in_ch, size, size))


@pytest.mark.parametrize("in_ch,size,batch", [(1, 28, 4), (3, 32, 2)])
def test_resnet_matches_torch_train_and_eval(in_ch, size, batch):
    m = ResNet((1, 2, 1), (8, 16, 16), in_channels=in_ch)
    tm = TorchResNet((1, 2, 1), (8, 16, 16), in_ch)
    _load(tm, m)
    _compare(m, tm, (batch, in_ch, size, size))           # train mode: batch statistics
    tp = dict(tm.named_buffers())
    for n, b in m.named_buffers():
        assert_close(b, tp[n], rtol=1e-5, atol=1e-6, msg=n)
    m.eval()
    tm.eval()
    m.zero_grad()
    tm.zero_grad()
    _compare(m, tm, (1, in_ch, size, size))               # eval mode, batch 1


def test_resnet_shapes_and_summary(capsys):
    m = resnet8(in_channels=3)
    s = dalam.summary(m, (2, 3, 32, 32))
    text = capsys.readouterr().out
    assert s.total_params == sum(p.numel() for p in m.parameters()) == s.trainable_params
    assert "[2, 64, 8, 8]" in text and "[2, 10]" in text and "BasicBlock" in text
    s = dalam.summary(LeNet5(), (1, 1, 28, 28), verbose=0)
    assert s.total_params == 61706
    conv1 = next(r for r in s.rows if r["type"] == "Conv2d")
    assert conv1["shape"] == [1, 6, 28, 28] and conv1["params"] == 156
    assert conv1["macs"] == 6 * 28 * 28 * 25
    assert m.training  # summary restores the mode


def test_lenet_learns_a_few_steps():
    dalam.manual_seed(0)
    m = LeNet5()
    opt = dalam.optim.Adam(m.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 64)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32) * 0.3
    x[np.arange(64), 0, y * 2 + 4, 10:18] += 2.0  # the label is written as a bright row
    xd, yd = dalam.tensor(x), dalam.tensor(y)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = F.cross_entropy(m(xd), yd)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
