"""The networks: MLPs for actor, critic and Q-values.

``ActorCritic`` holds a policy head (a Categorical over discrete actions or
a diagonal Normal with a learned, state-independent log-std for continuous
ones) and a value head, on separate MLP bodies by default (what PPO on
classic control and Box2D uses).  Init follows the PPO implementation
details: orthogonal weights, gain sqrt(2) in hidden layers, 0.01 on the
policy output (a near-uniform first policy), 1 on the value output."""
import math

import numpy as np

from .. import nn
from ..distributions import Categorical, Normal
from ..tensor import Tensor

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU}


def mlp(in_dim, hidden, out_dim, activation="tanh", out_gain=1.0, orthogonal=True):
    """Linear-activation-...-Linear; ``hidden`` a sequence of widths."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
    layers, d = [], in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), _ACTIVATIONS[activation]()]
        d = h
    layers.append(nn.Linear(d, out_dim))
    if orthogonal:
        for m in layers:
            if isinstance(m, nn.Linear):
                nn.init.orthogonal_(m.weight, gain=out_gain if m is layers[-1] else math.sqrt(2))
                nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


def _check_obs(obs, obs_dim, owner):
    if obs.shape[-1] != obs_dim:
        raise ValueError(f"{owner}: the network takes observations with {obs_dim} features, got shape "
                         f"{tuple(obs.shape)}. Was the agent trained on another environment? Train or load "
                         "one for this observation space.")


def as_obs_tensor(obs):
    a = np.asarray(obs, np.float32)
    return Tensor._make(a if a.ndim > 1 else a[None], False, None)


class ActorCritic(nn.Module):
    def __init__(self, obs_dim, n_actions=None, action_dim=None, hidden=(64, 64), activation="tanh",
                 log_std_init=0.0, ortho_init=True):
        super().__init__()
        if (n_actions is None) == (action_dim is None):
            raise ValueError("ActorCritic: give n_actions (discrete) or action_dim (continuous), not both")
        self.obs_dim, self.discrete = int(obs_dim), n_actions is not None
        out = n_actions if self.discrete else action_dim
        self.pi = mlp(obs_dim, hidden, out, activation, out_gain=0.01, orthogonal=ortho_init)
        self.vf = mlp(obs_dim, hidden, 1, activation, out_gain=1.0, orthogonal=ortho_init)
        if not self.discrete:
            self.log_std = nn.Parameter(Tensor._make(np.full(action_dim, log_std_init, np.float32), False, None))

    def distribution(self, obs):
        _check_obs(obs, self.obs_dim, "ActorCritic")
        out = self.pi(obs)
        # (the actions scored are the policy's own samples or stored ones: no argument validation)
        if self.discrete:
            return Categorical(logits=out, validate_args=False)
        return Normal(out, self.log_std.exp().expand_as(out), validate_args=False)

    def value(self, obs):
        _check_obs(obs, self.obs_dim, "ActorCritic")
        return self.vf(obs).squeeze(-1)

    def forward(self, obs):
        return self.distribution(obs), self.value(obs)

    def log_prob(self, dist, actions):
        lp = dist.log_prob(actions)
        return lp if self.discrete else lp.sum(-1)

    def entropy(self, dist):
        e = dist.entropy()
        return e if self.discrete else e.sum(-1)

    def act_deterministic(self, obs):
        out = self.pi(obs)
        return out.argmax(-1) if self.discrete else out


class QNetwork(nn.Module):
    """Q(s, .) for every discrete action at once."""

    def __init__(self, obs_dim, n_actions, hidden=(64, 64), activation="relu"):
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.q = mlp(obs_dim, hidden, n_actions, activation, orthogonal=False)

    def forward(self, obs):
        _check_obs(obs, self.obs_dim, "QNetwork")
        return self.q(obs)
