"""Advantage actor-critic (Mnih et al. 2016, synchronous A2C): short
rollouts of ``n_steps`` from ``n_envs`` environments, one gradient step on
policy-gradient loss + value loss - entropy bonus, RMSprop as in the paper
(and SB3's defaults)."""
import numpy as np

from .. import optim
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from .on_policy import OnPolicyAlgorithm
from .schedules import make_schedule


class A2C(OnPolicyAlgorithm):
    name = "A2C"
    defaults = {"n_steps": 5, "learning_rate": 7e-4, "gae_lambda": 1.0, "ent_coef": 0.0, "vf_coef": 0.5,
                "max_grad_norm": 0.5, "rms_alpha": 0.99, "rms_eps": 1e-5, "normalize_advantage": False}

    def _build(self):
        super()._build()
        c = self.config
        self.lr = make_schedule(c["learning_rate"])
        self.optimizer = optim.RMSprop(self.policy.parameters(), lr=self.lr(0.0), alpha=c["rms_alpha"],
                                       eps=c["rms_eps"])

    def _iteration(self):
        c, policy = self.config, self.policy
        data = self.collect_rollout().flat()
        lr = self.lr(self.progress)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        adv = data["advantages"]
        if c["normalize_advantage"]:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        dist, values = policy(Tensor._make(data["obs"], False, None))
        log_prob = policy.log_prob(dist, Tensor._make(data["actions"], False, None))
        pg = -(log_prob * Tensor._make(adv.astype(np.float32), False, None)).mean()
        vl = ((values - Tensor._make(data["returns"], False, None)) ** 2).mean()
        entropy = policy.entropy(dist).mean()
        loss = pg + c["vf_coef"] * vl - c["ent_coef"] * entropy
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(list(policy.parameters()), c["max_grad_norm"])
        self.optimizer.step()
        return {"policy_loss": pg.item(), "value_loss": vl.item(), "entropy": entropy.item(), "lr": lr}
