"""A small ResNet (He et al. 2016) of BasicBlocks, CIFAR-style, for 1x28x28 and 3x32x32.

Stem: 3x3 conv + BatchNorm + ReLU (no 7x7/maxpool: the images are small).
Stages of BasicBlocks (two 3x3 conv+BN, identity skip, or 1x1 conv+BN when the
shape changes), global average pooling, one linear head.  Attribute names
follow torchvision (conv1, bn1, layerN, downsample, fc), so state_dicts line up
with a torch model built the same way."""
from .. import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """``ResNet(layers=(2, 2, 2), widths=(16, 32, 64))``: stages halve the
    resolution after the first."""

    def __init__(self, layers=(2, 2, 2), widths=(16, 32, 64), in_channels=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        planes = widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(planes, w, stride=2 if (i > 0 and j == 0) else 1))
                planes = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.n_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.n_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def resnet8(in_channels=1, num_classes=10):
    """3 stages x 1 block (16/32/64 channels): ~78k parameters."""
    return ResNet((1, 1, 1), in_channels=in_channels, num_classes=num_classes)


def resnet14(in_channels=1, num_classes=10):
    """3 stages x 2 blocks (16/32/64 channels): ~175k parameters."""
    return ResNet((2, 2, 2), in_channels=in_channels, num_classes=num_classes)


def resnet20(in_channels=3, num_classes=10):
    """The CIFAR ResNet-20 of He et al. (3 x 3 blocks)."""
    return ResNet((3, 3, 3), in_channels=in_channels, num_classes=num_classes)
