"""Training runs from a TOML file (what ``dalam rl train`` runs).

    algo = "PPO"                    # DQN, REINFORCE, A2C or PPO
    env = "LunarLander-v3"
    total_timesteps = 1_000_000
    seed = 0
    run_dir = "runs/ppo_lunarlander"  # default: runs/<config file name>
    checkpoint_every = 50_000       # env steps between saves of RUN_DIR/agent.safetensors
    eval_every = 0                  # >0: evaluate (eval_episodes episodes) and keep best.safetensors
    eval_episodes = 10
    stop_at_return = 0              # >0: stop once the mean of the last 100 episodes reaches it
    tensorboard = false             # also write TensorBoard events to RUN_DIR/tb
    [hyperparameters]               # the algorithm's constructor arguments
    n_envs = 16
    ...

A run directory holds ``run.json`` (the resolved config), ``agent.safetensors``
(the latest checkpoint; a run started again resumes from it), ``episodes.csv``
and ``updates.csv`` (CSVLogger), ``curve.png`` and ``train.json`` (steps,
wall time summed over resumes, the final 100-episode mean)."""
import json
import pathlib
import sys
import time

RUN_KEYS = {"algo": None, "env": None, "total_timesteps": None, "seed": 0, "run_dir": None,
            "checkpoint_every": 50_000, "eval_every": 0, "eval_episodes": 10, "stop_at_return": 0,
            "tensorboard": False, "hyperparameters": {}}
THRESHOLDS = {"CartPole-v1": 475.0, "LunarLander-v3": 200.0, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0}


def read_config(path):
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    p = pathlib.Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"rl config file not found: {p}")
    try:
        cfg = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{p}: not valid TOML: {e}") from None
    unknown = sorted(set(cfg) - set(RUN_KEYS))
    if unknown:
        raise ValueError(f"{p}: unknown key(s) {unknown}; allowed: {sorted(RUN_KEYS)} "
                         "(hyperparameters go in a [hyperparameters] table)")
    for k in ("algo", "env", "total_timesteps"):
        if cfg.get(k) is None:
            raise ValueError(f"{p}: missing key '{k}'")
    from . import ALGORITHMS
    if cfg["algo"] not in ALGORITHMS:
        raise ValueError(f"{p}: algo {cfg['algo']!r} unknown; choose one of {sorted(ALGORITHMS)}")
    out = {**RUN_KEYS, **cfg}
    if out["run_dir"] is None:
        out["run_dir"] = str(pathlib.Path("runs") / p.stem)
    return out


def train_from_config(path, seed=None, run_dir=None, total_timesteps=None, fresh=False, verbose=True):
    """Train (or resume) the run a config file describes; returns the agent."""
    from . import ALGORITHMS, load
    from .callbacks import CheckpointCallback, CSVLogger, EvalCallback, ProgressPrinter, StopOnReward
    from .callbacks import TensorBoardLogger
    from .evaluation import plot_learning_curve, read_episodes
    cfg = read_config(path)
    if seed is not None:
        cfg["seed"] = int(seed)
    if run_dir is not None:
        cfg["run_dir"] = str(run_dir)
    if total_timesteps is not None:
        cfg["total_timesteps"] = int(total_timesteps)
    rd = pathlib.Path(cfg["run_dir"])
    rd.mkdir(parents=True, exist_ok=True)
    ckpt, info_path = rd / "agent.safetensors", rd / "train.json"
    info = {"wall_s": 0.0}
    if ckpt.exists() and not fresh:
        agent = load(ckpt)
        if agent.name != cfg["algo"] or agent.config["env"] != cfg["env"] or agent.config["seed"] != cfg["seed"]:
            raise ValueError(f"{rd} holds a {agent.name} agent on {agent.config['env']} (seed "
                             f"{agent.config['seed']}), not this config's; use another run_dir or --fresh")
        if info_path.exists():
            info = json.loads(info_path.read_text())
        if verbose:
            print(f"resuming {rd} at step {agent.num_timesteps}", file=sys.stderr)
    else:
        agent = ALGORITHMS[cfg["algo"]](cfg["env"], seed=cfg["seed"], **cfg["hyperparameters"])
    (rd / "run.json").write_text(json.dumps({**cfg, "resolved": agent.config}, indent=2))
    cbs = [CSVLogger(rd), CheckpointCallback(ckpt, cfg["checkpoint_every"])]
    if verbose:
        cbs.append(ProgressPrinter(30))
    if cfg["eval_every"]:
        cbs.append(EvalCallback(cfg["eval_every"], cfg["eval_episodes"], rd / "best.safetensors", verbose=verbose))
    if cfg["stop_at_return"]:
        stop = StopOnReward(cfg["stop_at_return"])
        cbs.append(stop)
    if cfg["tensorboard"]:
        cbs.append(TensorBoardLogger(rd / "tb"))
    t0 = time.perf_counter()
    agent.learn(cfg["total_timesteps"], callback=cbs)
    info["wall_s"] = info.get("wall_s", 0.0) + time.perf_counter() - t0
    info.update(steps=agent.num_timesteps, episodes=len(agent.episodes), last100=agent.recent_return(100),
                solved_at=_solved_at(agent.episodes, THRESHOLDS.get(cfg["env"])))
    info_path.write_text(json.dumps(info, indent=2))
    steps, rets = read_episodes(rd / "episodes.csv")
    plot_learning_curve({f"{cfg['algo']} seed {cfg['seed']}": (steps, rets)}, rd / "curve.png",
                        title=f"{cfg['algo']} on {cfg['env']}", threshold=THRESHOLDS.get(cfg["env"]))
    return agent


def _solved_at(episodes, threshold, window=100):
    """The env step at which the mean of the last ``window`` episodes first reached ``threshold``."""
    if threshold is None or len(episodes) < window:
        return None
    import numpy as np
    r = np.array([e[1] for e in episodes])
    c = np.cumsum(np.insert(r, 0, 0.0))
    means = (c[window:] - c[:-window]) / window
    hit = np.flatnonzero(means >= threshold)
    return int(episodes[hit[0] + window - 1][0]) if hit.size else None
