"""The one place that touches gymnasium: import with a clear error, vector
environments, space checks, and snapshots of an environment's state so that a
resumed run continues the very episode it was killed in."""
import numpy as np


def require_gymnasium():
    """``gymnasium``, or an ImportError that says what to install."""
    try:
        import gymnasium
    except ImportError:
        raise ImportError("dalam.rl needs gymnasium: pip install 'gymnasium[box2d]' "
                          "(or pip install dalam[rl]); box2d is only needed for LunarLander") from None
    return gymnasium


def make_vec_env(env_id, n_envs=1, env_kwargs=None):
    """A ``gymnasium.vector.SyncVectorEnv`` of ``n_envs`` copies of ``env_id``.

    Sync (one process): on a small machine, worker processes cost more than
    they save for cheap environments.  Autoreset happens in the same step
    (the last observation of an episode is in ``info["final_obs"]``), the
    convention the algorithms here expect."""
    gym = require_gymnasium()
    kwargs = dict(env_kwargs or {})

    def make():
        try:
            return gym.make(env_id, **kwargs)
        except gym.error.DependencyNotInstalled as e:
            raise ImportError(f"environment {env_id!r} needs an extra package: {e} "
                              "(for Box2D environments such as LunarLander: pip install 'gymnasium[box2d]')") from None

    make().close()  # fail early, with the environment's own error, before the vector env swallows it
    return gym.vector.SyncVectorEnv([make for _ in range(n_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def describe_space(space):
    return f"{type(space).__name__}{_space_args(space)}"


def _space_args(space):
    if hasattr(space, "n"):
        return f"({int(space.n)})"
    return f"(shape={tuple(space.shape)})"


def is_discrete(space):
    gym = require_gymnasium()
    return isinstance(space, gym.spaces.Discrete)


def check_obs_space(space, name):
    gym = require_gymnasium()
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"{name}: the MLP policies take flat vector observations (a Box of shape (D,)); "
                         f"this environment gives {describe_space(space)}. Flatten it with "
                         "gymnasium.wrappers.FlattenObservation, or use an environment with vector observations.")
    return int(space.shape[0])


# ---- snapshots of an environment's state ---------------------------------------------------

_SKIP = {"observation_space", "action_space", "_observation_space", "_action_space", "spec", "_spec",
         "metadata", "_metadata", "render_mode", "screen", "clock", "isopen", "env", "_cached_spec",
         "_np_random_seed", "surf", "viewer"}


def _simple(v):
    if v is None or isinstance(v, (bool, int, float, str, np.generic)):
        return True
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "biuf"
    if isinstance(v, (list, tuple)):
        return all(isinstance(x, (bool, int, float)) for x in v)
    return False


def _attrs(obj, strict):
    """The simple attributes of ``obj``; None when it holds state we cannot copy (a physics world).
    Wrappers (``strict=False``) keep their counters in simple attributes; their other
    attributes (saved constructor arguments, checker caches) are not state."""
    out = {}
    for k, v in vars(obj).items():
        if k in _SKIP:
            continue
        if not strict and k != "_np_random" and not _simple(v):
            continue
        if k == "_np_random":
            out[k] = None if v is None else {"__rng__": v.bit_generator.state}
            continue
        if not _simple(v):
            return None
        out[k] = v.copy() if isinstance(v, np.ndarray) else (list(v) if isinstance(v, tuple) else v)
    return out


def env_snapshot(vec_env):
    """The state of every sub-environment (wrappers included) as JSON-able
    values and arrays, or None when an environment keeps state that cannot be
    copied (Box2D's physics world): then a resumed run starts new episodes."""
    gym = require_gymnasium()
    snaps = []
    for env in vec_env.envs:
        layers = []
        e = env
        while True:
            a = _attrs(e, strict=not isinstance(e, gym.Wrapper))
            if a is None:
                return None
            layers.append(a)
            if not isinstance(e, gym.Wrapper):
                break
            e = e.env
        snaps.append(layers)
    return snaps


def restore_env_snapshot(vec_env, snaps):
    gym = require_gymnasium()
    for env, layers in zip(vec_env.envs, snaps):
        e = env
        for a in layers:
            for k, v in a.items():
                if isinstance(v, dict) and "__rng__" in v:
                    g = np.random.Generator(getattr(np.random, v["__rng__"]["bit_generator"])())
                    g.bit_generator.state = v["__rng__"]
                    v = g
                elif isinstance(v, np.ndarray):
                    v = v.copy()
                setattr(e, k, v)
            if not isinstance(e, gym.Wrapper):
                break
            e = e.env
