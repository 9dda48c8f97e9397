import torch
import torch.nn as nn
import torch.nn.functional as F

# Saving and loading as the PyTorch tutorial does: torch.save(model.state_dict()),
# a checkpoint dict with the optimizer state, load_state_dict, resume training.
torch.manual_seed(8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x, y = torch.randn(10, 1, 8, 8), torch.randint(0, 5, (10,))
for epoch in range(3):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
print("trained loss", loss.item())
torch.save(model.state_dict(), "model_weights.pth")
torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, "checkpoint.tar")

model2 = Net()
model2.load_state_dict(torch.load("model_weights.pth", weights_only=True))
model2.eval()
model.eval()
with torch.no_grad():
    print("same outputs after load:", torch.allclose(model(x), model2(x)))

checkpoint = torch.load("checkpoint.tar", weights_only=True)
model3 = Net()
opt3 = torch.optim.Adam(model3.parameters(), lr=1e-2)
model3.load_state_dict(checkpoint["model_state_dict"])
opt3.load_state_dict(checkpoint["optimizer_state_dict"])
print("resumed at epoch", checkpoint["epoch"], "saved loss", round(checkpoint["loss"], 6))
model3.train()
model.train()
for m, opt in ((model, optimizer), (model3, opt3)):
    opt.zero_grad()
    loss = F.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
    print("continued loss", loss.item())
print("keys", list(model3.state_dict().keys()))
