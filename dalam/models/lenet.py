"""LeNet-5 (LeCun et al. 1998) for 1x28x28 digits, in its common modern form.

Conv(1,6,5,pad 2) -> act -> pool 2 -> Conv(6,16,5) -> act -> pool 2 ->
FC 400-120-84-10.  ``activation='tanh', pool='avg'`` gives the original's
flavour; ReLU + max pooling (the default) trains faster.  ``in_channels=3,
input_size=32`` adapts it to CIFAR-sized images."""
from .. import nn


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, input_size=28, activation="relu", pool="max"):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        Pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        pad = 2 if input_size == 28 else 0
        side = ((input_size + 2 * pad - 4) // 2 - 4) // 2
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad), act(), Pool(2),
            nn.Conv2d(6, 16, 5), act(), Pool(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * side * side, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
