import torch
import torch.nn as nn
import torch.optim as optim

# nn.init.*_ through model.apply, two parameter groups, editing
# optimizer.param_groups[0]["lr"] by hand, and StepLR.
torch.manual_seed(4)


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv1d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.constant_(m.bias, 0.1)


model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10, 1))
model.apply(init_weights)
print("bias after init", model[0].bias.tolist())
optimizer = optim.SGD([
    {"params": model[0].parameters()},
    {"params": model[3].parameters(), "lr": 0.01},
], lr=0.05, momentum=0.9, weight_decay=1e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
x = torch.randn(20, 2, 10)
y = x[:, 0].sum(1, keepdim=True) - x[:, 1].mean(1, keepdim=True)
for epoch in range(8):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    if epoch == 4:
        for g in optimizer.param_groups:
            g["lr"] = g["lr"] * 0.1
    print(f"epoch {epoch} loss {loss.item():.6f} lrs {[round(g['lr'], 8) for g in optimizer.param_groups]}")
print("last lr", [round(v, 8) for v in scheduler.get_last_lr()])
