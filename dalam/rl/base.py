"""What every algorithm shares: environments, seeding, the episode record
(the learning curve), callbacks, ``predict`` and ``save``/``load``.

An algorithm subclass sets ``name`` and ``defaults`` (its hyperparameters),
builds its networks in ``_build`` and does one iteration of collecting and
learning in ``_iteration``; ``learn`` loops over iterations.

Saving and resuming.  ``save(path)`` writes ONE safetensors file (atomic):
tensors for the network weights, optimiser moments, replay buffer and the
current observations, JSON for the config, counters, RNG states, the episode
record and the state of every environment.  ``load(path)`` then ``learn``
with the same ``total_timesteps`` continues the run.  What resumes exactly:
network weights, optimiser state, the NumPy generators (the agent's own and
dalam's global one that draws actions), buffers, normalisation statistics,
schedules (they depend on the step count only) and, for environments whose
state is plain numbers (the classic-control ones: CartPole, Acrobot,
MountainCar, Pendulum), the episodes in progress, including each
environment's random generator and time-limit counter: a killed and resumed
run gives the same learning curve, step for step, as an uninterrupted one.
Box2D environments (LunarLander) keep their state in a physics world that
cannot be copied: there the episodes in progress at the save are dropped and
new ones start from seeds drawn from the saved generator, so the resumed run
is reproducible (the same file resumes the same way) but not identical to
the uninterrupted one."""
import json
import math
import time

import numpy as np

from .. import backend, no_grad
from ..io import load as _load_file, save as _save_file
from . import _gym
from .callbacks import CallbackList
from .normalize import ObsNormalizer, RewardNormalizer
from .policies import as_obs_tensor

FORMAT = "dalam.rl/1"


class Algorithm:
    name = "Algorithm"
    defaults = {}
    common = {"n_envs": 1, "seed": 0, "gamma": 0.99, "normalize_obs": False, "normalize_reward": False,
              "env_kwargs": {}, "hidden": [64, 64], "activation": "tanh"}

    def __init__(self, env="CartPole-v1", **kwargs):
        allowed = {**self.common, **self.defaults}
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise TypeError(f"{self.name}: unknown hyperparameter(s) {unknown}; valid ones: {sorted(allowed)}")
        if not isinstance(env, str):
            raise TypeError(f"{self.name}: env must be a gymnasium environment id such as 'CartPole-v1' "
                            f"(so that save/load can rebuild it), got {type(env).__name__}")
        self.config = {"env": env, **allowed, **kwargs}
        self.config["hidden"] = list(self.config["hidden"])
        self._setup()

    # ---- construction -----------------------------------------------------------------
    def _setup(self, saved_spaces=None):
        c = self.config
        self.env = _gym.make_vec_env(c["env"], c["n_envs"], c["env_kwargs"])
        self.n_envs = c["n_envs"]
        obs_space, act_space = self.env.single_observation_space, self.env.single_action_space
        self.obs_dim = _gym.check_obs_space(obs_space, self.name)
        self.discrete = _gym.is_discrete(act_space)
        self.n_actions = int(act_space.n) if self.discrete else None
        self.action_dim = None if self.discrete else int(np.prod(act_space.shape))
        if not self.discrete:
            self.action_low, self.action_high = act_space.low, act_space.high
        spaces = {"obs_dim": self.obs_dim, "n_actions": self.n_actions, "action_dim": self.action_dim}
        if saved_spaces is not None and saved_spaces != spaces:
            raise ValueError(f"{self.name}.load: the saved agent was trained on {saved_spaces} but environment "
                             f"{c['env']!r} has {spaces}: the networks do not fit it. Load it with the "
                             "environment it was trained on (env=None uses the saved one).")
        self.spaces = spaces
        backend.manual_seed(c["seed"])
        self.rng = np.random.default_rng(c["seed"])
        self.obs_norm = ObsNormalizer((self.obs_dim,)) if c["normalize_obs"] else None
        self.rew_norm = RewardNormalizer(self.n_envs, c["gamma"]) if c["normalize_reward"] else None
        self.num_timesteps, self.iterations, self.total_timesteps = 0, 0, 0
        self.episodes = []  # (env steps when it ended, return, length): the learning curve
        self.logs = {}
        self._obs = None
        self._ep_ret = np.zeros(self.n_envs, np.float64)
        self._ep_len = np.zeros(self.n_envs, np.int64)
        self._callbacks = CallbackList([])
        self._build()

    def _build(self):
        raise NotImplementedError

    def _iteration(self):
        raise NotImplementedError

    # ---- the loop -----------------------------------------------------------------------
    @property
    def progress(self):
        """Fraction of ``total_timesteps`` done: what schedules read."""
        return min(self.num_timesteps / max(self.total_timesteps, 1), 1.0)

    def learn(self, total_timesteps, callback=None):
        """Train until ``total_timesteps`` environment steps in all (a loaded
        agent counts the steps it already took: pass the same total to resume)."""
        self.total_timesteps = int(total_timesteps)
        self._callbacks = CallbackList(callback)
        if self._obs is None:
            obs, _ = self.env.reset(seed=self.config["seed"])
            self._obs = obs.astype(np.float32)
        self._t0, self._steps0 = time.perf_counter(), self.num_timesteps
        self._callbacks.on_training_start(self)
        while self.num_timesteps < self.total_timesteps:
            logs = self._iteration() or {}
            self.iterations += 1
            dt = time.perf_counter() - self._t0
            logs["fps"] = (self.num_timesteps - self._steps0) / max(dt, 1e-9)
            self.logs = logs
            if self._callbacks.on_iteration(self, logs) is False:
                break
        self._callbacks.on_training_end(self)
        return self

    def _step_envs(self, actions):
        """Step every environment; record finished episodes.  Returns
        ``(next_obs, rewards, terminated, truncated, final_obs)``; ``final_obs``
        is the true last observation where an episode ended (``next_obs`` is
        then already the first of the next episode)."""
        obs, rew, term, trunc, info = self.env.step(actions)
        obs = obs.astype(np.float32)
        rew = np.asarray(rew, np.float32)
        done = term | trunc
        final = obs
        self.num_timesteps += self.n_envs
        self._ep_ret += rew
        self._ep_len += 1
        if done.any():
            final = obs.copy()
            for i in np.flatnonzero(done):
                final[i] = info["final_obs"][i]
                ep = (self.num_timesteps, float(self._ep_ret[i]), int(self._ep_len[i]))
                self.episodes.append(ep)
                self._callbacks.on_episode(self, *ep)
            self._ep_ret[done] = 0.0
            self._ep_len[done] = 0
        return obs, rew, term, trunc, final

    def _normalize(self, obs, update=False):
        return obs if self.obs_norm is None else self.obs_norm(obs, update)

    def recent_return(self, n=100):
        """Mean return of the last ``n`` finished episodes (nan before the first)."""
        return float(np.mean([e[1] for e in self.episodes[-n:]])) if self.episodes else math.nan

    # ---- acting -------------------------------------------------------------------------
    def predict(self, obs, deterministic=True):
        """Actions for one observation (shape (D,)) or a batch (B, D), as NumPy.
        ``deterministic``: the most likely action (the mean for continuous
        actions) instead of a sample."""
        obs = np.asarray(obs, np.float32)
        single = obs.ndim == 1
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"{self.name}.predict: the agent takes observations with {self.obs_dim} features "
                             f"({self.config['env']}), got shape {obs.shape}")
        with no_grad():
            a = self._act(as_obs_tensor(self._normalize(obs)), deterministic)
        if not self.discrete:
            a = np.clip(a, self.action_low, self.action_high)
        return a[0] if single else a

    def _act(self, obs_t, deterministic):
        raise NotImplementedError

    # ---- saving ---------------------------------------------------------------------------
    def _modules(self):
        """{name: nn.Module} to save."""
        raise NotImplementedError

    def _optimizers(self):
        return {}

    def _extra_state(self):
        return {}

    def _load_extra_state(self, d):
        pass

    def save(self, path):
        """Everything needed to use or resume the agent, in one safetensors file (atomic)."""
        snap = _gym.env_snapshot(self.env) if self._obs is not None else None
        state = {
            "format": FORMAT, "algo": self.name, "config": self.config, "spaces": self.spaces,
            "num_timesteps": self.num_timesteps, "iterations": self.iterations,
            "total_timesteps": self.total_timesteps,
            "episodes": np.array(self.episodes, np.float64).reshape(-1, 3),
            "modules": {k: m.state_dict() for k, m in self._modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self._optimizers().items()},
            "rng": json.dumps(self.rng.bit_generator.state), "dalam_rng": json.dumps(backend.get_rng_state()),
            "obs": self._obs, "ep_ret": self._ep_ret, "ep_len": self._ep_len, "env_state": snap,
            "obs_norm": self.obs_norm.state_dict() if self.obs_norm else None,
            "rew_norm": self.rew_norm.state_dict() if self.rew_norm else None,
            "extra": self._extra_state(),
        }
        return _save_file(state, path)

    @classmethod
    def load(cls, path, env=None, **overrides):
        """An agent from ``save``'s file, ready to ``predict`` or to ``learn``
        on (resuming).  ``env``: another environment id (its spaces must
        match); ``overrides``: hyperparameters to change (e.g. n_envs for
        evaluation; a changed config no longer resumes exactly)."""
        d = _load_file(path, as_numpy=True)
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError(f"{cls.__name__}.load: {path} is not a dalam.rl agent file (no '{FORMAT}' header)")
        if cls is not Algorithm and d["algo"] != cls.name:
            raise ValueError(f"{cls.__name__}.load: {path} holds a {d['algo']} agent; use dalam.rl.{d['algo']}.load "
                             "or dalam.rl.load")
        if cls is Algorithm:
            from . import ALGORITHMS
            cls = ALGORITHMS[d["algo"]]
        self = cls.__new__(cls)
        self.config = dict(d["config"])
        if env is not None:
            self.config["env"] = env
        self.config.update(overrides)
        resume = env is None and not overrides
        self._setup(saved_spaces=d["spaces"])
        for k, m in self._modules().items():
            m.load_state_dict(d["modules"][k])
        for k, o in self._optimizers().items():
            o.load_state_dict(d["optimizers"][k])
        self.rng.bit_generator.state = json.loads(d["rng"])
        backend.set_rng_state(json.loads(d["dalam_rng"]))
        self.num_timesteps, self.iterations = int(d["num_timesteps"]), int(d["iterations"])
        self.total_timesteps = int(d["total_timesteps"])
        self.episodes = [(int(s), float(r), int(n)) for s, r, n in d["episodes"]]
        if self.obs_norm and d["obs_norm"]:
            self.obs_norm.load_state_dict(d["obs_norm"])
        if self.rew_norm and d["rew_norm"] and resume:
            self.rew_norm.load_state_dict(d["rew_norm"])
        if resume and d["obs"] is not None:
            self._load_extra_state(d["extra"])
            self.env.reset(seed=self.config["seed"])
            if d["env_state"] is not None:
                _gym.restore_env_snapshot(self.env, d["env_state"])
                self._obs = np.array(d["obs"], np.float32)
                self._ep_ret, self._ep_len = np.array(d["ep_ret"]), np.array(d["ep_len"])
            else:  # episodes in progress cannot be restored: start new ones, seeded from the saved RNG
                seeds = [int(s) for s in self.rng.integers(0, 2**31 - 1, self.n_envs)]
                obs, _ = self.env.reset(seed=seeds)
                self._obs = obs.astype(np.float32)
        return self

    def close(self):
        self.env.close()

    def __repr__(self):
        return f"{self.name}(env={self.config['env']!r}, n_envs={self.n_envs}, steps={self.num_timesteps})"


def load(path, env=None, **overrides):
    """Load any dalam.rl agent file (the algorithm is read from the file)."""
    return Algorithm.load(path, env=env, **overrides)
