"""Callbacks for ``learn``: logging, checkpoints, evaluation, early stop.

A callback overrides any of
    on_training_start(algo)          on_training_end(algo)
    on_episode(algo, step, ret, length)   -- each finished training episode
    on_iteration(algo, logs)         -- after each collect+learn iteration;
                                        return False to stop training
``logs`` holds the iteration's losses and statistics (floats).  A plain
function ``f(algo, logs)`` is accepted as an on_iteration callback."""
import csv
import math
import os
import pathlib
import sys
import time

import numpy as np


class Callback:
    def on_training_start(self, algo):
        pass

    def on_episode(self, algo, step, ret, length):
        pass

    def on_iteration(self, algo, logs):
        pass

    def on_training_end(self, algo):
        pass


class _FunctionCallback(Callback):
    def __init__(self, fn):
        self.fn = fn

    def on_iteration(self, algo, logs):
        return self.fn(algo, logs)


class CallbackList(Callback):
    def __init__(self, callbacks):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback) or callable(callbacks):
            callbacks = [callbacks]
        self.callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]

    def on_training_start(self, algo):
        for c in self.callbacks:
            c.on_training_start(algo)

    def on_episode(self, algo, step, ret, length):
        for c in self.callbacks:
            c.on_episode(algo, step, ret, length)

    def on_iteration(self, algo, logs):
        go = True
        for c in self.callbacks:
            if c.on_iteration(algo, logs) is False:
                go = False
        return go

    def on_training_end(self, algo):
        for c in self.callbacks:
            c.on_training_end(algo)


class CSVLogger(Callback):
    """``episodes.csv`` (step, return, length, time) and ``updates.csv`` (the
    iteration logs) in ``folder``.  On a resumed run both files are rewritten
    from the agent's record up to the checkpoint, so they never double back."""

    def __init__(self, folder):
        self.folder = pathlib.Path(folder)

    def on_training_start(self, algo):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._t0 = time.perf_counter()
        self._ep = open(self.folder / "episodes.csv", "w", newline="")
        self._epw = csv.writer(self._ep)
        self._epw.writerow(["step", "return", "length"])
        for e in algo.episodes:
            self._epw.writerow(e)
        upd = self.folder / "updates.csv"
        self._rows = []
        if upd.exists() and algo.num_timesteps > 0:  # keep the rows up to the resumed step
            with open(upd, newline="") as f:
                self._rows = [r for r in csv.DictReader(f) if int(float(r["step"])) <= algo.num_timesteps]
        self._keys = None

    def on_episode(self, algo, step, ret, length):
        self._epw.writerow([step, ret, length])

    def on_iteration(self, algo, logs):
        self._rows.append({"step": algo.num_timesteps, **{k: f"{v:.6g}" for k, v in logs.items()}})
        keys = list(self._rows[-1])
        if keys != self._keys or len(self._rows) % 20 == 0:
            self._keys = keys
            self._write_updates()
        self._ep.flush()

    def _write_updates(self):
        tmp = self.folder / "updates.csv.tmp"
        keys = list(dict.fromkeys(k for r in self._rows for k in r))
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, keys)
            w.writeheader()
            w.writerows(self._rows)
        os.replace(tmp, self.folder / "updates.csv")

    def on_training_end(self, algo):
        self._write_updates()
        self._ep.close()


class TensorBoardLogger(Callback):
    """Episode returns (``rollout/ep_return``) and iteration logs (``train/*``)
    against environment steps, with tensorboardX (``pip install tensorboardX``)."""

    def __init__(self, log_dir):
        self.log_dir = str(log_dir)

    def on_training_start(self, algo):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("TensorBoardLogger needs tensorboardX: pip install tensorboardX "
                              "(or pip install dalam[tensorboard])") from None
        self.w = SummaryWriter(self.log_dir, purge_step=algo.num_timesteps or None)

    def on_episode(self, algo, step, ret, length):
        self.w.add_scalar("rollout/ep_return", ret, step)
        self.w.add_scalar("rollout/ep_length", length, step)

    def on_iteration(self, algo, logs):
        for k, v in logs.items():
            self.w.add_scalar(f"train/{k}", v, algo.num_timesteps)

    def on_training_end(self, algo):
        self.w.close()


class CheckpointCallback(Callback):
    """Saves the agent to ``path`` (one file, atomic) every ``every`` environment steps and at the end."""

    def __init__(self, path, every=10_000):
        self.path, self.every = pathlib.Path(path), int(every)

    def on_training_start(self, algo):
        self._last = algo.num_timesteps

    def on_iteration(self, algo, logs):
        if algo.num_timesteps - self._last >= self.every:
            algo.save(self.path)
            self._last = algo.num_timesteps

    def on_training_end(self, algo):
        algo.save(self.path)


class EvalCallback(Callback):
    """Every ``every`` steps, the deterministic policy's mean return over
    ``n_episodes`` evaluation episodes (fixed seeds, separate environments, so
    training is not disturbed); keeps the best agent at ``best_path`` (the
    usual model selection of SB3's EvalCallback)."""

    def __init__(self, every=10_000, n_episodes=10, best_path=None, seed=10_000, verbose=True):
        self.every, self.n_episodes, self.seed = int(every), int(n_episodes), int(seed)
        self.best_path = pathlib.Path(best_path) if best_path else None
        self.verbose, self.best, self.history = verbose, -math.inf, []

    def on_training_start(self, algo):
        self._last = algo.num_timesteps

    def on_iteration(self, algo, logs):
        if algo.num_timesteps - self._last < self.every:
            return
        self._last = algo.num_timesteps
        from .evaluation import evaluate
        r = evaluate(algo, n_episodes=self.n_episodes, seed=self.seed)
        self.history.append((algo.num_timesteps, r["mean"], r["std"]))
        logs["eval_mean"] = r["mean"]
        if r["mean"] >= self.best:
            self.best = r["mean"]
            if self.best_path:
                algo.save(self.best_path)
        if self.verbose:
            print(f"  eval at {algo.num_timesteps}: {r['mean']:.1f} +- {r['std']:.1f} (best {self.best:.1f})",
                  file=sys.stderr, flush=True)


class StopOnReward(Callback):
    """Stops when the mean return of the last ``window`` training episodes reaches ``threshold``
    (the environment's 'solved' criterion, e.g. 475 over 100 episodes for CartPole-v1)."""

    def __init__(self, threshold, window=100):
        self.threshold, self.window = float(threshold), int(window)
        self.solved_at = None

    def on_iteration(self, algo, logs):
        if len(algo.episodes) >= self.window and algo.recent_return(self.window) >= self.threshold:
            self.solved_at = algo.num_timesteps
            return False


class ProgressPrinter(Callback):
    """One line every ``every_s`` seconds: steps, steps/s, mean return of the last 100 episodes."""

    def __init__(self, every_s=10.0, stream=None):
        self.every_s, self.stream = every_s, stream or sys.stderr

    def on_training_start(self, algo):
        self._next = time.perf_counter() + self.every_s

    def on_iteration(self, algo, logs):
        now = time.perf_counter()
        if now >= self._next:
            self._next = now + self.every_s
            extra = " ".join(f"{k}={v:.3g}" for k, v in logs.items() if k != "fps")
            print(f"{algo.name} step {algo.num_timesteps}/{algo.total_timesteps} fps {logs.get('fps', 0):.0f} "
                  f"return(100) {algo.recent_return():.1f} {extra}", file=self.stream, flush=True)
