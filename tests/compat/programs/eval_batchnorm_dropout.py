import torch
import torch.nn as nn

# train() vs eval(): BatchNorm uses batch statistics then running ones; Dropout is off in eval;
# evaluation under torch.no_grad() and torch.inference_mode().
torch.manual_seed(5)
model = nn.Sequential(
    nn.Linear(8, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
    nn.Linear(32, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
    nn.Linear(16, 2))
x = torch.randn(64, 8)
y = (x[:, :4].sum(1) > 0).long()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(8):
    model.train()
    for i in range(0, 64, 16):
        xb, yb = x[i:i + 16], y[i:i + 16]
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(x)
        val_loss = loss_fn(out, y).item()
        acc = (out.argmax(dim=1) == y).float().mean().item()
    print(f"epoch {epoch} train loss {loss.item():.6f} val loss {val_loss:.6f} acc {acc:.4f}")
bn = model[1]
print("running mean", round(bn.running_mean[:3].sum().item(), 5), "batches", bn.num_batches_tracked.item())
with torch.inference_mode():
    a = model(x[:4])
    b = model(x[:4])
print("eval is deterministic:", torch.equal(a, b), "requires_grad:", a.requires_grad)
model.train()
print("train differs:", not torch.equal(model(x[:4]), model(x[:4])))
