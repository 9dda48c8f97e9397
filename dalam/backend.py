"""The one place dalam touches its array library.

All array maths goes through ``xp`` so that a GPU backend (CuPy) can be a
drop-in later.  The random generator lives here too: ``manual_seed`` resets it
and every random op in dalam draws from it, which makes runs reproducible.
"""
import numpy as np

xp = np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default_dtype = float32
_rng = None  # made on first use: numpy.random costs ~10 ms of import time
_seed = 0


def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """Set the dtype that new floating tensors get (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Seed dalam's global random generator; same seed, same numbers."""
    global _rng, _seed
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _seed = seed
    _rng = np.random.default_rng(seed)
    return _rng


def initial_seed():
    return _seed


def rng():
    """The global numpy Generator (re-bound by manual_seed)."""
    global _rng
    if _rng is None:
        _rng = np.random.default_rng(_seed)
    return _rng


def get_rng_state():
    """The generator's state as a JSON-friendly dict (for checkpoints)."""
    return rng().bit_generator.state


def set_rng_state(state):
    rng().bit_generator.state = state


def is_floating(dtype):
    return dtype.kind == "f"
