"""Evaluation by the field's conventions, learning-curve plots and GIFs.

``evaluate``: the deterministic policy for ``n_episodes`` (100 by
convention) on episodes seeded ``seed, seed+1, ...`` (a fixed list, so two
agents meet the same start states), reporting mean and std of the
undiscounted return.  The episodes run in a batch of environments so the
network sees one batched forward per step."""
import pathlib

import numpy as np

from . import _gym


def evaluate(agent, n_episodes=100, seed=0, deterministic=True, env_id=None, max_parallel=16):
    """``{"mean", "std", "returns", "lengths", "seeds"}`` over ``n_episodes`` episodes."""
    gym = _gym.require_gymnasium()
    env_id = env_id or agent.config["env"]
    seeds = [seed + i for i in range(n_episodes)]
    k = min(n_episodes, max_parallel)
    envs = [gym.make(env_id, **agent.config.get("env_kwargs", {})) for _ in range(k)]
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, np.int64)
    next_ep = 0
    slot_ep = [-1] * k
    obs = np.zeros((k, agent.obs_dim), np.float32)
    for j in range(k):
        obs[j], _ = envs[j].reset(seed=seeds[next_ep])
        slot_ep[j], next_ep = next_ep, next_ep + 1
    while any(e >= 0 for e in slot_ep):
        active = [j for j in range(k) if slot_ep[j] >= 0]
        actions = agent.predict(obs[active], deterministic=deterministic)
        for a, j in zip(actions, active):
            o, r, term, trunc, _ = envs[j].step(a.item() if agent.discrete else a)
            ep = slot_ep[j]
            returns[ep] += r
            lengths[ep] += 1
            obs[j] = o
            if term or trunc:
                if next_ep < n_episodes:
                    obs[j], _ = envs[j].reset(seed=seeds[next_ep])
                    slot_ep[j], next_ep = next_ep, next_ep + 1
                else:
                    slot_ep[j] = -1
    for e in envs:
        e.close()
    return {"mean": float(returns.mean()), "std": float(returns.std()), "returns": returns.tolist(),
            "lengths": lengths.tolist(), "seeds": seeds}


def read_episodes(csv_path):
    """(steps, returns) arrays from a CSVLogger's episodes.csv."""
    a = np.loadtxt(csv_path, delimiter=",", skiprows=1, ndmin=2)
    return (a[:, 0], a[:, 1]) if a.size else (np.zeros(0), np.zeros(0))


def rolling_mean(x, window=100):
    x = np.asarray(x, np.float64)
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.empty(len(x))
    for i in range(len(x)):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def plot_learning_curve(curves, path, title="", window=100, threshold=None):
    """PNG of return vs environment steps.  ``curves``: {label: (steps, returns)};
    each episode is a faint dot, the line the mean of the last ``window`` episodes."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_learning_curve needs matplotlib: pip install matplotlib (or dalam[plot])") from None
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for i, (label, (steps, rets)) in enumerate(curves.items()):
        color = f"C{i}"
        ax.scatter(steps, rets, s=2, alpha=0.15, color=color)
        ax.plot(steps, rolling_mean(rets, window), color=color, lw=1.8, label=f"{label} (mean of last {window})")
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"solved ({threshold:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def record_gif(agent, path, seed=0, max_steps=1000, fps=30, frame_skip=2, scale=2, deterministic=True):
    """Render one episode (``render_mode="rgb_array"``) to a GIF with imageio;
    every ``frame_skip``-th frame, downscaled by ``scale``.  Returns the episode's return."""
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise ImportError("record_gif needs imageio: pip install imageio (or pip install dalam[rl])") from None
    gym = _gym.require_gymnasium()
    env = gym.make(agent.config["env"], render_mode="rgb_array", **agent.config.get("env_kwargs", {}))
    obs, _ = env.reset(seed=seed)
    frames, total = [], 0.0
    for t in range(max_steps):
        if t % frame_skip == 0:
            frames.append(env.render()[::scale, ::scale])
        a = agent.predict(obs, deterministic=deterministic)
        obs, r, term, trunc, _ = env.step(a.item() if agent.discrete else a)
        total += r
        if term or trunc:
            break
    frames.append(env.render()[::scale, ::scale])
    env.close()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, frames, duration=1000.0 * frame_skip / fps, loop=0)
    return total
