import torch
import torch.nn as nn
import torch.nn.functional as F

# A miniature U-Net: DoubleConv blocks, MaxPool2d down, F.interpolate(bilinear) up,
# torch.cat skip connections, BCEWithLogits + Dice loss for a segmentation mask.
torch.manual_seed(19)


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inc = DoubleConv(1, 4)
        self.down = nn.Sequential(nn.MaxPool2d(2), DoubleConv(4, 8))
        self.up = DoubleConv(12, 4)
        self.outc = nn.Conv2d(4, 1, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down(x1)
        x2 = F.interpolate(x2, scale_factor=2, mode="bilinear", align_corners=True)
        x = self.up(torch.cat([x1, x2], dim=1))
        return self.outc(x)


def dice_loss(logits, target, eps=1.0):
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(2, 3))
    return 1 - ((2 * inter + eps) / (p.sum(dim=(2, 3)) + target.sum(dim=(2, 3)) + eps)).mean()


model = UNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
images = torch.rand(4, 1, 8, 8)
masks = (images > 0.5).float()
for step in range(6):
    logits = model(images)
    loss = F.binary_cross_entropy_with_logits(logits, masks) + dice_loss(logits, masks)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f}")
with torch.no_grad():
    model.eval()
    pred = (torch.sigmoid(model(images)) > 0.5).float()
    iou = (pred * masks).sum() / ((pred + masks) > 0).float().sum()
print("iou %.4f" % iou.item())
