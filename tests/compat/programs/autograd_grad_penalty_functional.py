import torch
import torch.nn as nn
from torch.autograd.functional import jacobian
from torch.func import grad, vmap

# torch.autograd.grad with create_graph=True (WGAN-GP's gradient penalty),
# autograd.functional.jacobian, and per-sample gradients with torch.func.vmap(grad(...)).
torch.manual_seed(13)
critic = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
real = torch.randn(8, 4) + 1
fake = torch.randn(8, 4)


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_interpolates = critic(interpolates)
    gradients = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                    grad_outputs=torch.ones_like(d_interpolates),
                                    create_graph=True, retain_graph=True)[0]
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


for step in range(6):
    opt.zero_grad()
    gp = gradient_penalty(critic, real, fake)
    loss = critic(fake).mean() - critic(real).mean() + 10 * gp
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f} gp {gp.item():.6f}")

J = jacobian(lambda v: torch.tanh(v @ v.T), torch.randn(2, 3))
print("jacobian", tuple(J.shape), round(J.abs().sum().item(), 5))
w = torch.randn(4)


def sample_loss(w, x, y):
    return (x @ w - y) ** 2


per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(w, real, fake[:, 0])
print("per-sample grads", tuple(per_sample.shape), round(per_sample.sum().item(), 5))
