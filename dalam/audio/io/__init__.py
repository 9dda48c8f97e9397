"""Audio files: load / save / info (soundfile), resampling of arrays (soxr)."""
from .files import load, save, info, load_mono, resample_array

__all__ = ["load", "save", "info", "load_mono", "resample_array"]
