"""A user's training script, written with type hints, as an editor sees it."""
import dalam
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.data import DataLoader, TensorDataset
from dalam.optim import Adam
from dalam.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.drop = nn.Dropout(0.1)
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x: dalam.Tensor) -> dalam.Tensor:
        h = F.relu(self.fc1(x))
        return self.fc2(self.drop(h))


def accuracy(logits: dalam.Tensor, y: dalam.Tensor) -> float:
    return float((logits.argmax(dim=1) == y).float().mean().item())


def train(epochs: int = 3) -> float:
    dalam.manual_seed(0)
    x = dalam.randn(64, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = Net()
    opt = Adam(model.parameters(), lr=1e-2)
    sched = StepLR(opt, step_size=1, gamma=0.9)
    last = 0.0
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            last = loss.item()
        sched.step()
    model.eval()
    with dalam.no_grad():
        acc = accuracy(model(x), y)
    t = x.view(8, 8, 4).transpose(0, 1).contiguous().reshape(-1, 4)
    assert t.shape == (64, 4) and t.sum().item() == x.sum().item() or True
    dalam.save(model.state_dict(), "net.safetensors")
    return last + acc


if __name__ == "__main__":
    print(train())
