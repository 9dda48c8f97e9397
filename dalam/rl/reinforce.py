"""REINFORCE (Williams 1992) with a learned baseline: play whole episodes,
weight each log-probability by the return that followed it minus the
critic's V(s), fit V(s) to those returns.  Updates after every
``episodes_per_update`` finished episodes (from ``n_envs`` environments in
parallel; an episode still running at an update continues under the new
policy, a small lag that the batch of episodes keeps harmless)."""
import numpy as np

from .. import no_grad, optim
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from .base import Algorithm
from .policies import ActorCritic
from .returns import discounted_returns
from .schedules import make_schedule


class REINFORCE(Algorithm):
    name = "REINFORCE"
    defaults = {"learning_rate": 1e-3, "episodes_per_update": 8, "ent_coef": 0.0, "vf_coef": 0.5,
                "max_grad_norm": 0.5, "normalize_advantage": True, "baseline": True}

    def _build(self):
        c = self.config
        self.policy = ActorCritic(self.obs_dim, n_actions=self.n_actions, action_dim=self.action_dim,
                                  hidden=c["hidden"], activation=c["activation"])
        self.lr = make_schedule(c["learning_rate"])
        self.optimizer = optim.Adam(self.policy.parameters(), lr=self.lr(0.0))
        self._traj = [self._empty() for _ in range(self.n_envs)]

    @staticmethod
    def _empty():
        return {"obs": [], "actions": [], "rewards": []}

    def _modules(self):
        return {"policy": self.policy}

    def _optimizers(self):
        return {"optimizer": self.optimizer}

    def _extra_state(self):
        return {"traj": [{k: np.array(v, np.float32 if k != "actions" or not self.discrete else np.int64)
                          for k, v in t.items()} for t in self._traj]}

    def _load_extra_state(self, d):
        self._traj = [{k: list(np.asarray(v)) for k, v in t.items()} for t in d["traj"]]

    def _act(self, obs_t, deterministic):
        if deterministic:
            return self.policy.act_deterministic(obs_t).numpy()
        return self.policy.distribution(obs_t).sample().numpy()

    def _iteration(self):
        c = self.config
        episodes = []
        with no_grad():
            while len(episodes) < c["episodes_per_update"] and self.num_timesteps < self.total_timesteps:
                obs = self._normalize(self._obs, update=True)
                a = self.policy.distribution(Tensor._make(obs, False, None)).sample().numpy()
                env_a = a if self.discrete else np.clip(a, self.action_low, self.action_high)
                next_obs, rew, term, trunc, final = self._step_envs(env_a)
                for i in range(self.n_envs):
                    t = self._traj[i]
                    t["obs"].append(obs[i])
                    t["actions"].append(a[i])
                    t["rewards"].append(rew[i])
                    if term[i] or trunc[i]:
                        if trunc[i] and not term[i]:  # cut by the time limit: bootstrap from the critic
                            v = self.policy.value(Tensor._make(self._normalize(final[i:i + 1]), False, None))
                            t["rewards"][-1] += c["gamma"] * float(v.numpy()[0])
                        episodes.append(t)
                        self._traj[i] = self._empty()
                self._obs = next_obs
        if not episodes:
            return {}
        return self._update(episodes)

    def _update(self, episodes):
        c = self.config
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr(self.progress)
        obs = np.concatenate([np.array(e["obs"], np.float32) for e in episodes])
        actions = np.concatenate([np.array(e["actions"]) for e in episodes])
        returns = np.concatenate([discounted_returns(np.array(e["rewards"], np.float32)[:, None],
                                                     np.zeros((len(e["rewards"]), 1)), c["gamma"])[:, 0]
                                  for e in episodes])
        dist, values = self.policy(Tensor._make(obs, False, None))
        adv = returns - values.detach().numpy() if c["baseline"] else returns.copy()
        if c["normalize_advantage"]:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        log_prob = self.policy.log_prob(dist, Tensor._make(actions, False, None))
        pg = -(log_prob * Tensor._make(adv.astype(np.float32), False, None)).mean()
        entropy = self.policy.entropy(dist).mean()
        loss = pg - c["ent_coef"] * entropy
        vl = ((values - Tensor._make(returns, False, None)) ** 2).mean()
        if c["baseline"]:
            loss = loss + c["vf_coef"] * vl
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(list(self.policy.parameters()), c["max_grad_norm"])
        self.optimizer.step()
        return {"policy_loss": pg.item(), "value_loss": vl.item(), "entropy": entropy.item(),
                "episodes": len(episodes)}
