import torch
import torch.nn as nn

# Forward hooks that record activations, nn.ModuleDict of heads, register_buffer for
# running statistics kept by the model itself, state_dict keys.
torch.manual_seed(11)


class MultiHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(10, 16), nn.Tanh())
        self.heads = nn.ModuleDict({"reg": nn.Linear(16, 1), "cls": nn.Linear(16, 3)})
        self.register_buffer("running_mean", torch.zeros(10))
        self.register_buffer("steps", torch.tensor(0))

    def forward(self, x, head):
        if self.training:
            self.running_mean.mul_(0.9).add_(0.1 * x.mean(0))
            self.steps += 1
        return self.heads[head](self.trunk(x - self.running_mean))


model = MultiHead()
activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


handle = model.trunk[1].register_forward_hook(save_activation("tanh"))
pre_calls = []
model.heads["cls"].register_forward_pre_hook(lambda m, inp: pre_calls.append(inp[0].shape[0]))
print(sorted(model.state_dict().keys()))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.randn(32, 10)
y_reg = x.sum(1, keepdim=True)
y_cls = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
for step in range(10):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x, "reg"), y_reg) + nn.functional.cross_entropy(model(x, "cls"), y_cls)
    loss.backward()
    opt.step()
    if step % 3 == 0:
        print(f"step {step} loss {loss.item():.6f} tanh mean {activations['tanh'].mean().item():.6f}")
handle.remove()
model(x, "reg")
print("pre-hook calls", len(pre_calls), "steps buffer", model.steps.item())
print("running mean", [round(v, 5) for v in model.running_mean.tolist()[:3]])
print("keys in heads", list(model.heads.keys()), "buffers", [n for n, _ in model.named_buffers()])
