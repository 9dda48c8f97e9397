import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset, DataLoader

# A Dataset subclass + DataLoader(shuffle=True), an MLP, accuracy counting.
torch.manual_seed(0)


class Blobs(Dataset):
    def __init__(self, n=256):
        self.x = torch.randn(n, 2, 4, 4)
        w = torch.randn(32, 3)
        self.y = (self.x.view(n, -1) @ w).argmax(dim=1)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64, 3)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


train_loader = DataLoader(Blobs(), batch_size=32, shuffle=True)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(3):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * data.size(0)
        pred = output.argmax(dim=1)
        correct += (pred == target).sum().item()
        seen += data.size(0)
    print(f"epoch {epoch} loss {total_loss / seen:.6f} acc {correct}/{seen}")
