"""Returns and advantages, computed in NumPy over arrays of shape (T, N):
T time steps of N environments.  ``dones[t]`` is 1 where the episode ended
with step t (the next row starts a new episode), so nothing flows back
across it.  A time-limit truncation is not an ending of the task: the
algorithms fold ``gamma * V(final_obs)`` into that step's reward first and
then mark it done."""
import numpy as np


def discounted_returns(rewards, dones, gamma, last_values=None):
    """G_t = r_t + gamma * G_{t+1} * (1 - done_t); after the last row,
    ``last_values`` (the bootstrap V(s_T), zeros when None)."""
    rewards = np.asarray(rewards, np.float32)
    dones = np.asarray(dones, np.float32)
    out = np.empty_like(rewards)
    g = np.zeros(rewards.shape[1:], np.float32) if last_values is None else np.asarray(last_values, np.float32)
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g * (1.0 - dones[t])
        out[t] = g
    return out


def gae(rewards, values, dones, last_values, gamma, lam):
    """Generalised advantage estimation (Schulman et al. 2016).

    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)
    A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
    Returns ``(advantages, returns)`` with returns = advantages + values
    (the value-function targets).  lam=1 gives Monte-Carlo returns minus the
    baseline; lam=0 the one-step TD error."""
    rewards = np.asarray(rewards, np.float32)
    values = np.asarray(values, np.float32)
    notdone = 1.0 - np.asarray(dones, np.float32)
    next_values = np.concatenate([values[1:], np.asarray(last_values, np.float32)[None]], 0)
    deltas = rewards + gamma * next_values * notdone - values
    adv = np.empty_like(rewards)
    a = np.zeros(rewards.shape[1:], np.float32)
    decay = np.float32(gamma * lam) * notdone
    for t in range(len(rewards) - 1, -1, -1):
        a = deltas[t] + decay[t] * a
        adv[t] = a
    return adv, adv + values
