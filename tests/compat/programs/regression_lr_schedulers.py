import torch
import torch.nn as nn

# Linear regression with MSELoss, ReduceLROnPlateau on a validation loss, then
# CosineAnnealingLR; the learning rate read back from param_groups and get_last_lr().
torch.manual_seed(9)
true_w = torch.tensor([[2.0, -3.4, 1.5]])
X = torch.randn(100, 3)
y = X @ true_w.T + 4.2 + 0.01 * torch.randn(100, 1)
model = nn.Linear(3, 1)
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
for epoch in range(6):
    for i in range(0, 100, 25):
        optimizer.zero_grad()
        loss = loss_fn(model(X[i:i + 25]), y[i:i + 25])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        val = loss_fn(model(X), y).item()
    plateau.step(val if epoch < 3 else 1.0)
    print(f"epoch {epoch} loss {loss.item():.6f} val {val:.6f} lr {optimizer.param_groups[0]['lr']}")
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.001)
for epoch in range(4):
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    cosine.step()
    print(f"cosine epoch {epoch} loss {loss.item():.8f} lr {cosine.get_last_lr()[0]:.6f}")
print("weights", [round(v, 3) for v in model.weight.view(-1).tolist()], "bias", round(model.bias.item(), 3))
