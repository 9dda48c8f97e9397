import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms
from torchvision.utils import save_image

# A convolutional autoencoder on Fashion-MNIST; reconstructions written with
# torchvision.utils.save_image and read back to check the file.
torch.manual_seed(2)
train_set = datasets.FashionMNIST(root="data", train=True, download=True, transform=transforms.ToTensor())
loader = DataLoader(Subset(train_set, list(range(96))), batch_size=32, shuffle=True)


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
                                     nn.ReLU(),
                                     nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
                                     nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = AE()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.MSELoss()
for epoch in range(2):
    for img, _ in loader:
        recon = model(img)
        loss = criterion(recon, img)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch [{epoch + 1}/2], loss:{loss.item():.6f}")
save_image(torch.cat([img[:4], recon[:4].detach()]), "recon.png", nrow=4)
from PIL import Image
import numpy as np
png = np.asarray(Image.open("recon.png"))
print("png", png.shape, png.dtype, "mean pixel %.3f" % png.mean())
