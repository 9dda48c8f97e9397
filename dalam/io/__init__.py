"""Saving and loading: ``save``/``load`` (safetensors + JSON, no pickle) and
``atomic_write`` for any file that must never be seen half-written."""
from .serialization import save, load, read_safetensors  # noqa: F401
from .atomic import atomic_write, fsync_dir  # noqa: F401
