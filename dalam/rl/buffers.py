"""Storage of experience.

- ``ReplayBuffer``: a ring of the last ``capacity`` transitions, sampled
  uniformly (DQN).  Arrays are preallocated, adds and samples are single
  NumPy slices/fancy-indexes, and the whole buffer is saved with the agent so
  that a resumed run samples the same batches.
- ``PrioritizedReplayBuffer``: samples transition i with probability
  p_i^alpha / sum p^alpha (Schaul et al. 2016), p_i = |TD error| + eps, and
  returns importance weights (N * P(i))^-beta / max.  A sum tree keeps
  sampling and updates at O(log N), vectorised over the batch.
- ``RolloutBuffer``: the (T, N) arrays of one on-policy rollout (A2C, PPO).
"""
import numpy as np

from .returns import gae


class ReplayBuffer:
    def __init__(self, capacity, obs_shape, action_shape=(), action_dtype=np.int64, obs_dtype=np.float32):
        self.capacity = int(capacity)
        if self.capacity <= 0:
            raise ValueError(f"ReplayBuffer: capacity must be positive, got {capacity}")
        c = self.capacity
        self.obs = np.zeros((c, *obs_shape), obs_dtype)
        self.next_obs = np.zeros((c, *obs_shape), obs_dtype)
        self.actions = np.zeros((c, *action_shape), action_dtype)
        self.rewards = np.zeros(c, np.float32)
        self.terminated = np.zeros(c, np.float32)
        self.pos, self.size = 0, 0

    def __len__(self):
        return self.size

    def add(self, obs, next_obs, actions, rewards, terminated):
        """Add a batch of transitions (one per environment)."""
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx], self.next_obs[idx], self.actions[idx] = obs, next_obs, actions
        self.rewards[idx], self.terminated[idx] = rewards, terminated
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        return idx

    def _gather(self, idx):
        return {"obs": self.obs[idx], "next_obs": self.next_obs[idx], "actions": self.actions[idx],
                "rewards": self.rewards[idx], "terminated": self.terminated[idx], "indices": idx}

    def sample(self, batch_size, rng):
        if self.size == 0:
            raise RuntimeError("ReplayBuffer.sample: the buffer is empty; add transitions first")
        return self._gather(rng.integers(0, self.size, batch_size))

    def state_dict(self):
        n = self.size
        return {"obs": self.obs[:n].copy(), "next_obs": self.next_obs[:n].copy(), "actions": self.actions[:n].copy(),
                "rewards": self.rewards[:n].copy(), "terminated": self.terminated[:n].copy(),
                "pos": self.pos, "size": self.size, "capacity": self.capacity}

    def load_state_dict(self, d):
        if int(d["capacity"]) != self.capacity:
            raise ValueError(f"ReplayBuffer: saved capacity {d['capacity']} != this buffer's {self.capacity}")
        n = self.size = int(d["size"])
        self.pos = int(d["pos"])
        for k in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, k)[:n] = d[k]


class PrioritizedReplayBuffer(ReplayBuffer):
    def __init__(self, capacity, obs_shape, action_shape=(), action_dtype=np.int64, obs_dtype=np.float32,
                 alpha=0.6, eps=1e-6):
        super().__init__(capacity, obs_shape, action_shape, action_dtype, obs_dtype)
        self.alpha, self.eps = float(alpha), float(eps)
        self.leaves = 1 << max(0, (self.capacity - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves, np.float64)  # tree[1] = total; leaves at [leaves, 2*leaves)
        self.max_priority = 1.0

    def _set(self, idx, prio):
        pos = np.asarray(idx) + self.leaves
        self.tree[pos] = prio
        pos = np.unique(pos // 2)
        while pos[0] >= 1:
            self.tree[pos] = self.tree[2 * pos] + self.tree[2 * pos + 1]
            if pos[0] == 1:
                break
            pos = np.unique(pos // 2)

    def add(self, obs, next_obs, actions, rewards, terminated):
        idx = super().add(obs, next_obs, actions, rewards, terminated)
        self._set(idx, self.max_priority ** self.alpha)
        return idx

    def sample(self, batch_size, rng, beta=0.4):
        if self.size == 0:
            raise RuntimeError("PrioritizedReplayBuffer.sample: the buffer is empty; add transitions first")
        total = self.tree[1]
        # one draw in each of batch_size equal slices of the total mass (stratified)
        u = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        node = np.ones(batch_size, np.int64)
        while node[0] < self.leaves:
            left = 2 * node
            go_right = u > self.tree[left]
            u = np.where(go_right, u - self.tree[left], u)
            node = np.where(go_right, left + 1, left)
        idx = np.minimum(node - self.leaves, self.size - 1)
        p = self.tree[idx + self.leaves] / total
        w = (self.size * np.maximum(p, 1e-12)) ** (-beta)
        batch = self._gather(idx)
        batch["weights"] = (w / w.max()).astype(np.float32)
        return batch

    def update_priorities(self, idx, td_errors):
        prio = np.abs(np.asarray(td_errors, np.float64)) + self.eps
        self.max_priority = max(self.max_priority, float(prio.max()))
        self._set(idx, prio ** self.alpha)

    def state_dict(self):
        d = super().state_dict()
        d.update(tree=self.tree.copy(), max_priority=self.max_priority)
        return d

    def load_state_dict(self, d):
        super().load_state_dict(d)
        self.tree[:] = d["tree"]
        self.max_priority = float(d["max_priority"])


class RolloutBuffer:
    """One rollout of ``n_steps`` x ``n_envs``; ``compute`` fills advantages and returns by GAE."""

    def __init__(self, n_steps, n_envs, obs_shape, action_shape=(), action_dtype=np.int64):
        T, N = n_steps, n_envs
        self.obs = np.zeros((T, N, *obs_shape), np.float32)
        self.actions = np.zeros((T, N, *action_shape), action_dtype)
        self.rewards = np.zeros((T, N), np.float32)
        self.dones = np.zeros((T, N), np.float32)
        self.values = np.zeros((T, N), np.float32)
        self.log_probs = np.zeros((T, N), np.float32)
        self.advantages = self.returns = None

    def compute(self, last_values, gamma, lam):
        self.advantages, self.returns = gae(self.rewards, self.values, self.dones, last_values, gamma, lam)

    def flat(self):
        """Every array reshaped to (T*N, ...), for minibatches."""
        T, N = self.rewards.shape
        f = lambda a: a.reshape(T * N, *a.shape[2:])  # noqa: E731
        return {"obs": f(self.obs), "actions": f(self.actions), "values": f(self.values),
                "log_probs": f(self.log_probs), "advantages": f(self.advantages), "returns": f(self.returns)}
