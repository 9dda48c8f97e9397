"""Proximal Policy Optimisation (Schulman et al. 2017), the clipped variant,
with the implementation details that matter (Huang et al. 2022, "The 37
implementation details of PPO"): GAE, advantages normalised per minibatch,
optional value clipping, entropy bonus, several epochs of shuffled
minibatches over each rollout, global gradient-norm clipping, linear
schedules for learning rate and clip range, vectorised environments."""
import numpy as np

from .. import clamp, exp, maximum, minimum, optim
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from .on_policy import OnPolicyAlgorithm
from .schedules import make_schedule


def clipped_surrogate_loss(log_prob, old_log_prob, advantages, clip_range):
    """-E[min(r A, clip(r, 1-eps, 1+eps) A)], r = exp(log_prob - old_log_prob)."""
    ratio = exp(log_prob - old_log_prob)
    return -minimum(ratio * advantages, clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages).mean()


def value_loss(values, old_values, returns, clip_range_vf=None):
    """E[(V - R)^2]; with ``clip_range_vf``, E[max((V - R)^2, (V_clipped - R)^2)] where
    V_clipped = old_V + clip(V - old_V, -eps, eps) (the critic moves at most eps per rollout)."""
    if clip_range_vf is None:
        return ((values - returns) ** 2).mean()
    v_clipped = old_values + clamp(values - old_values, -clip_range_vf, clip_range_vf)
    return maximum((values - returns) ** 2, (v_clipped - returns) ** 2).mean()


class PPO(OnPolicyAlgorithm):
    name = "PPO"
    defaults = {"n_steps": 2048, "batch_size": 64, "n_epochs": 10, "learning_rate": 3e-4, "gae_lambda": 0.95,
                "clip_range": 0.2, "clip_range_vf": None, "ent_coef": 0.0, "vf_coef": 0.5, "max_grad_norm": 0.5,
                "normalize_advantage": True, "target_kl": None, "adam_eps": 1e-5}

    def _build(self):
        super()._build()
        c = self.config
        if (c["n_steps"] * self.n_envs) < c["batch_size"]:
            raise ValueError(f"PPO: n_steps * n_envs = {c['n_steps'] * self.n_envs} is smaller than batch_size "
                             f"{c['batch_size']}: a rollout must hold at least one minibatch")
        self.lr = make_schedule(c["learning_rate"])
        self.clip = make_schedule(c["clip_range"])
        self.optimizer = optim.Adam(self.policy.parameters(), lr=self.lr(0.0), eps=c["adam_eps"])

    def _iteration(self):
        c, policy = self.config, self.policy
        buf = self.collect_rollout()
        data = buf.flat()
        lr, clip = self.lr(self.progress), self.clip(self.progress)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        n, bs = len(data["returns"]), c["batch_size"]
        params = list(policy.parameters())
        stats = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": [], "clip_fraction": []}
        for epoch in range(c["n_epochs"]):
            perm = self.rng.permutation(n)
            kls = []
            for start in range(0, n - bs + 1, bs):
                mb = perm[start:start + bs]
                obs = Tensor._make(data["obs"][mb], False, None)
                actions = Tensor._make(data["actions"][mb], False, None)
                adv = data["advantages"][mb]
                if c["normalize_advantage"] and len(mb) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                old_lp = data["log_probs"][mb]
                dist, values = policy(obs)
                log_prob = policy.log_prob(dist, actions)
                entropy = policy.entropy(dist).mean()
                pg = clipped_surrogate_loss(log_prob, Tensor._make(old_lp, False, None),
                                            Tensor._make(adv.astype(np.float32), False, None), clip)
                vl = value_loss(values, Tensor._make(data["values"][mb], False, None),
                                Tensor._make(data["returns"][mb], False, None), c["clip_range_vf"])
                loss = pg + c["vf_coef"] * vl - c["ent_coef"] * entropy
                self.optimizer.zero_grad()
                loss.backward()
                clip_grad_norm_(params, c["max_grad_norm"])
                self.optimizer.step()
                log_ratio = log_prob.detach().numpy() - old_lp
                kls.append(float(np.mean(np.expm1(log_ratio) - log_ratio)))
                stats["policy_loss"].append(pg.item())
                stats["value_loss"].append(vl.item())
                stats["entropy"].append(entropy.item())
                stats["clip_fraction"].append(float(np.mean(np.abs(np.expm1(log_ratio)) > clip)))
            stats["approx_kl"] += kls
            if c["target_kl"] is not None and np.mean(kls) > 1.5 * c["target_kl"]:
                break
        logs = {k: float(np.mean(v)) for k, v in stats.items() if v}
        y, v = data["returns"], data["values"]
        logs["explained_variance"] = float(1 - np.var(y - v) / (np.var(y) + 1e-12))
        logs.update(lr=lr, clip_range=clip)
        return logs
