"""The rollout that A2C and PPO share: ``n_steps`` steps of every
environment with the current policy, then GAE on the (n_steps, n_envs)
arrays.  A time-limit truncation bootstraps: gamma * V(final observation)
is added to that step's reward, since the task did not end there."""
import numpy as np

from .. import no_grad
from ..tensor import Tensor
from .base import Algorithm
from .buffers import RolloutBuffer
from .policies import ActorCritic


class OnPolicyAlgorithm(Algorithm):
    def _build(self):
        c = self.config
        self.policy = ActorCritic(self.obs_dim, n_actions=self.n_actions, action_dim=self.action_dim,
                                  hidden=c["hidden"], activation=c["activation"])
        act_shape = () if self.discrete else (self.action_dim,)
        self.rollout = RolloutBuffer(c["n_steps"], self.n_envs, (self.obs_dim,), act_shape,
                                     np.int64 if self.discrete else np.float32)

    def _modules(self):
        return {"policy": self.policy}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _act(self, obs_t, deterministic):
        if deterministic:
            return self.policy.act_deterministic(obs_t).numpy()
        return self.policy.distribution(obs_t).sample().numpy()

    def _values(self, obs):
        with no_grad():
            return self.policy.value(Tensor._make(obs, False, None)).numpy()

    def collect_rollout(self):
        c, buf, policy = self.config, self.rollout, self.policy
        gamma = c["gamma"]
        with no_grad():
            for t in range(c["n_steps"]):
                obs = self._normalize(self._obs, update=True)
                dist, value = policy(Tensor._make(obs, False, None))
                action = dist.sample()
                buf.log_probs[t] = policy.log_prob(dist, action).numpy()
                a = action.numpy()
                env_a = a if self.discrete else np.clip(a, self.action_low, self.action_high)
                next_obs, rew, term, trunc, final = self._step_envs(env_a)
                done = term | trunc
                if self.rew_norm is not None:
                    rew = self.rew_norm(rew, done)
                cut = trunc & ~term
                if cut.any():
                    rew = rew.copy()
                    rew[cut] += gamma * self._values(self._normalize(final[cut]))
                buf.obs[t], buf.actions[t], buf.values[t] = obs, a, value.numpy()
                buf.rewards[t], buf.dones[t] = rew, done
                self._obs = next_obs
        buf.compute(self._values(self._normalize(self._obs)), gamma, c["gae_lambda"])
        return buf
