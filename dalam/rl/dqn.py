"""Deep Q-learning (Mnih et al. 2015) with the usual upgrades: a target
network (hard copy every ``target_update_interval`` env steps, or Polyak
averaging with ``tau`` < 1), Double DQN targets (van Hasselt et al. 2016:
the online net picks the next action, the target net scores it), Huber loss,
epsilon-greedy exploration on a linear schedule, optional prioritised replay.

Every ``train_freq`` env steps (per environment), ``gradient_steps``
minibatch updates (-1: as many as env steps were taken); SB3's counting, so
rl-baselines3-zoo's settings carry over."""
import numpy as np

from .. import no_grad, optim
from ..nn.utils import clip_grad_norm_
from ..ops.loss import huber_loss
from ..tensor import Tensor
from . import _gym
from .base import Algorithm
from .buffers import PrioritizedReplayBuffer, ReplayBuffer
from .policies import QNetwork
from .schedules import Linear, make_schedule


class DQN(Algorithm):
    name = "DQN"
    defaults = {"learning_rate": 1e-4, "buffer_size": 100_000, "learning_starts": 1000, "batch_size": 32,
                "tau": 1.0, "target_update_interval": 1000, "train_freq": 4, "gradient_steps": 1,
                "exploration_fraction": 0.1, "exploration_initial_eps": 1.0, "exploration_final_eps": 0.05,
                "double_q": True, "max_grad_norm": 10.0, "huber_delta": 1.0,
                "prioritized": False, "per_alpha": 0.6, "per_beta": "linear:0.4:1.0"}
    common = {**Algorithm.common, "activation": "relu"}

    def _build(self):
        if not self.discrete:
            space = self.env.single_action_space
            raise ValueError(f"DQN needs a discrete action space (gymnasium.spaces.Discrete); "
                             f"{self.config['env']!r} has continuous actions {_gym.describe_space(space)}. "
                             "Use PPO or A2C for continuous control, or an environment with discrete actions "
                             "(e.g. LunarLander-v3 instead of LunarLander-v3 with continuous=True).")
        c = self.config
        self.q = QNetwork(self.obs_dim, self.n_actions, c["hidden"], c["activation"])
        self.q_target = QNetwork(self.obs_dim, self.n_actions, c["hidden"], c["activation"])
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.requires_grad_(False)
        self.lr = make_schedule(c["learning_rate"])
        self.optimizer = optim.Adam(self.q.parameters(), lr=self.lr(0.0))
        Buffer = PrioritizedReplayBuffer if c["prioritized"] else ReplayBuffer
        kw = {"alpha": c["per_alpha"]} if c["prioritized"] else {}
        self.buffer = Buffer(c["buffer_size"], (self.obs_dim,), **kw)
        self.beta = make_schedule(c["per_beta"])
        self.epsilon = Linear(c["exploration_initial_eps"], c["exploration_final_eps"], c["exploration_fraction"])
        self._calls = 0

    def _modules(self):
        return {"q": self.q, "q_target": self.q_target}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _extra_state(self):
        return {"buffer": self.buffer.state_dict(), "calls": self._calls}

    def _load_extra_state(self, d):
        self.buffer.load_state_dict(d["buffer"])
        self._calls = int(d["calls"])

    def _act(self, obs_t, deterministic):
        return self.q(obs_t).argmax(-1).numpy()  # DQN's policy is greedy; exploration is only in training

    def _iteration(self):
        c = self.config
        target_every = max(c["target_update_interval"] // self.n_envs, 1)
        for _ in range(c["train_freq"]):
            eps = self.epsilon(self.progress) if self.num_timesteps >= c["learning_starts"] else 1.0
            explore = self.rng.random(self.n_envs) < eps
            actions = self.rng.integers(0, self.n_actions, self.n_envs)
            if not explore.all():
                with no_grad():
                    greedy = self.q(Tensor._make(self._normalize(self._obs), False, None)).argmax(-1).numpy()
                actions = np.where(explore, actions, greedy)
            obs = self._normalize(self._obs, update=True)
            next_obs, rew, term, trunc, final = self._step_envs(actions)
            if self.rew_norm is not None:
                rew = self.rew_norm(rew, term | trunc)
            self.buffer.add(obs, self._normalize(final), actions, rew, term)
            self._obs = next_obs
            self._calls += 1
            if self._calls % target_every == 0:
                self._update_target()
            if self.num_timesteps >= self.total_timesteps:
                break
        logs = {"epsilon": eps}
        if self.num_timesteps >= c["learning_starts"]:
            n = c["gradient_steps"] if c["gradient_steps"] >= 0 else c["train_freq"] * self.n_envs
            losses = [self.train_step() for _ in range(n)]
            logs["loss"] = float(np.mean(losses))
        return logs

    def _update_target(self):
        tau = self.config["tau"]
        with no_grad():
            for pt, p in zip(self.q_target.parameters(), self.q.parameters()):
                if tau >= 1.0:
                    pt._data[...] = p._data
                else:
                    pt._data *= 1.0 - tau
                    pt._data += tau * p._data

    def train_step(self):
        """One minibatch update; returns the loss."""
        c = self.config
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr(self.progress)
        if c["prioritized"]:
            b = self.buffer.sample(c["batch_size"], self.rng, beta=self.beta(self.progress))
        else:
            b = self.buffer.sample(c["batch_size"], self.rng)
        next_obs = Tensor._make(b["next_obs"], False, None)
        with no_grad():
            q_next = self.q_target(next_obs).numpy()
            if c["double_q"]:
                a_next = self.q(next_obs).numpy().argmax(1)
            else:
                a_next = q_next.argmax(1)
        rows = np.arange(len(a_next))
        target = b["rewards"] + c["gamma"] * (1.0 - b["terminated"]) * q_next[rows, a_next]
        q = self.q(Tensor._make(b["obs"], False, None))
        q_taken = q.gather(1, Tensor._make(b["actions"][:, None], False, None)).squeeze(1)
        target_t = Tensor._make(target.astype(np.float32), False, None)
        if c["prioritized"]:
            per_sample = huber_loss(q_taken, target_t, reduction="none", delta=c["huber_delta"])
            loss = (per_sample * Tensor._make(b["weights"], False, None)).mean()
            self.buffer.update_priorities(b["indices"], q_taken.detach().numpy() - target)
        else:
            loss = huber_loss(q_taken, target_t, delta=c["huber_delta"])
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(list(self.q.parameters()), c["max_grad_norm"])
        self.optimizer.step()
        return loss.item()
