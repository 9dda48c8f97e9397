import torch
import torch.nn as nn
from torch.distributions import Normal, Independent, Bernoulli, kl_divergence

# A Gaussian policy: Normal(mu, std) with rsample (reparameterised), log_prob summed over
# actions with Independent, entropy bonus, KL to a fixed prior; a Bernoulli head.
torch.manual_seed(31)


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 32), nn.ReLU())
        self.mu = nn.Linear(32, 2)
        self.log_std = nn.Parameter(torch.zeros(2))
        self.stop = nn.Linear(32, 1)

    def forward(self, s):
        h = self.body(s)
        dist = Independent(Normal(self.mu(h), self.log_std.exp()), 1)
        return dist, Bernoulli(logits=self.stop(h).squeeze(-1))


policy = Policy()
opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
states = torch.randn(16, 3)
for step in range(8):
    dist, stop = policy(states)
    actions = dist.rsample()
    reward = -((actions - states[:, :2]) ** 2).sum(-1)
    stops = stop.sample()
    loss = -(reward.mean()) - 0.01 * dist.entropy().mean() + 0.1 * kl_divergence(dist, prior).mean() \
        - (stop.log_prob(stops) * reward.detach()).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.6f} log_prob {dist.log_prob(actions).mean().item():.6f} "
          f"stops {int(stops.sum().item())}")
print("std", [round(v, 5) for v in policy.log_std.exp().tolist()])
