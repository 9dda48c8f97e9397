"""Running normalisation of observations and rewards (what SB3's VecNormalize
does): statistics update on every batch of steps and are saved with the
agent, so a loaded agent sees observations scaled exactly as in training."""
import numpy as np


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update)."""

    def __init__(self, shape=(), epsilon=1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = float(epsilon)

    def update(self, x):
        x = np.asarray(x, np.float64)
        b_mean, b_var, b_n = x.mean(0), x.var(0), x.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_n
        self.mean = self.mean + delta * b_n / total
        m2 = self.var * self.count + b_var * b_n + delta ** 2 * self.count * b_n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self):
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, d):
        self.mean, self.var, self.count = np.array(d["mean"]), np.array(d["var"]), float(d["count"])


class ObsNormalizer:
    """(obs - mean) / sqrt(var + eps), clipped to +-clip."""

    def __init__(self, shape, clip=10.0, eps=1e-8):
        self.rms, self.clip, self.eps = RunningMeanStd(shape), float(clip), eps

    def __call__(self, obs, update=False):
        if update:
            self.rms.update(obs)
        z = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.eps)
        return np.clip(z, -self.clip, self.clip).astype(np.float32)

    def state_dict(self):
        return self.rms.state_dict()

    def load_state_dict(self, d):
        self.rms.load_state_dict(d)


class RewardNormalizer:
    """Divides rewards by the running std of the discounted return (not the
    reward itself: that keeps the sign and relative size within an episode)."""

    def __init__(self, n_envs, gamma, clip=10.0, eps=1e-8):
        self.rms, self.gamma, self.clip, self.eps = RunningMeanStd(()), gamma, float(clip), eps
        self.ret = np.zeros(n_envs, np.float64)

    def __call__(self, rewards, dones):
        self.ret = self.ret * self.gamma + rewards
        self.rms.update(self.ret)
        self.ret[dones] = 0.0
        return np.clip(rewards / np.sqrt(self.rms.var + self.eps), -self.clip, self.clip).astype(np.float32)

    def state_dict(self):
        return {"rms": self.rms.state_dict(), "ret": self.ret.copy()}

    def load_state_dict(self, d):
        self.rms.load_state_dict(d["rms"])
        self.ret = np.array(d["ret"], np.float64)
