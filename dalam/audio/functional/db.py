"""Amplitude/power to decibels (torchaudio.functional.amplitude_to_DB) and back."""
import math

from ...tensor import Tensor


def amplitude_to_DB(x, multiplier, amin, db_multiplier, top_db=None):
    """multiplier * log10(max(x, amin)) - multiplier * db_multiplier, then, with
    ``top_db``, floored at (max - top_db) per item: the max is taken over the
    last 3 dims for inputs of 3 or more dims (torchaudio's packed channels),
    over the last 2 for a single spectrogram."""
    if not isinstance(x, Tensor):
        raise TypeError(f"amplitude_to_DB: expected a Tensor, got {type(x).__name__}")
    x_db = x.clamp(min=amin).log10() * multiplier
    x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"amplitude_to_DB: top_db must be non-negative, got {top_db}")
        shape = x_db.shape
        packed = shape[-3] if x_db.dim() > 2 else 1
        r = x_db.reshape(-1, packed, shape[-2], shape[-1])
        floor = r.amax(dim=(-3, -2, -1)).reshape(-1, 1, 1, 1) - top_db
        from ...ops.activation import maximum
        x_db = maximum(r, floor).reshape(shape)
    return x_db


def DB_to_amplitude(x, ref, power):
    """ref * (10 ** (x / 10)) ** power: the inverse of amplitude_to_DB (without top_db)."""
    return ((x * 0.1) * math.log(10.0)).exp() ** power * ref
