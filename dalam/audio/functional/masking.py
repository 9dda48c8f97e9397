"""SpecAugment masks (torchaudio.functional.mask_along_axis[_iid]): a band of
width ~U(0, mask_param) at a uniform start is set to ``mask_value``. The mask
is a constant multiplier, so gradients flow through the unmasked cells.
Randomness comes from ``generator`` (a dalam.Generator or numpy Generator)
or dalam's global RNG: seeded, reproducible."""
import numpy as np

from ...tensor import Tensor


def _rng(generator):
    if generator is None:
        from ...backend import rng
        return rng()
    return getattr(generator, "rng", generator)


def _max_param(mask_param, size, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"masking: p must be in [0, 1], got {p}")
    return min(mask_param, int(size * p)) if p < 1.0 else mask_param


def _apply(specgram, keep, mask_value):
    keep = keep.astype(specgram.dtype)
    if mask_value == 0:
        return specgram * keep
    return specgram * keep + (1 - keep) * mask_value


def mask_along_axis(specgram, mask_param, mask_value, axis, p=1.0, generator=None):
    """One mask shared by every spectrogram in the batch; ``axis`` counts the
    last two dims as freq (-2 or ndim-2) and time (-1 or ndim-1)."""
    if not isinstance(specgram, Tensor):
        raise TypeError("mask_along_axis: expected a Tensor spectrogram (..., freq, time)")
    nd = specgram.dim()
    ax = axis % nd
    if ax not in (nd - 2, nd - 1):
        raise ValueError(f"mask_along_axis: axis must be the frequency ({nd - 2}) or time ({nd - 1}) "
                         f"axis of a (..., freq, time) spectrogram, got {axis}")
    size = specgram.shape[ax]
    mp = _max_param(mask_param, size, p)
    if mp < 1:
        return specgram
    r = _rng(generator)
    value = r.random() * mp
    start = r.random() * (size - value)
    lo, hi = int(start), int(start + value)
    idx = np.arange(size)
    keep = ~((idx >= lo) & (idx < hi))
    shape = [1] * nd
    shape[ax] = size
    return _apply(specgram, keep.reshape(shape), mask_value)


def mask_along_axis_iid(specgrams, mask_param, mask_value, axis, p=1.0, generator=None):
    """An independent mask for every example and channel: ``specgrams`` is
    (batch, channel, freq, time) or (batch, freq, time); ``axis`` is freq or time."""
    if not isinstance(specgrams, Tensor):
        raise TypeError("mask_along_axis_iid: expected a Tensor (batch, [channel,] freq, time)")
    nd = specgrams.dim()
    if nd < 3:
        raise ValueError(f"mask_along_axis_iid: expected (batch, [channel,] freq, time), got shape "
                         f"{tuple(specgrams.shape)}")
    ax = axis % nd
    if ax not in (nd - 2, nd - 1):
        raise ValueError(f"mask_along_axis_iid: axis must be {nd - 2} (freq) or {nd - 1} (time), got {axis}")
    size = specgrams.shape[ax]
    mp = _max_param(mask_param, size, p)
    if mp < 1:
        return specgrams
    lead = specgrams.shape[:nd - 2]
    r = _rng(generator)
    value = r.random(lead) * mp
    start = r.random(lead) * (size - value)
    lo, hi = start.astype(np.int64), (start + value).astype(np.int64)
    idx = np.arange(size)
    keep = ~((idx >= lo[..., None]) & (idx < hi[..., None]))      # lead + (size,)
    keep = keep[..., :, None] if ax == nd - 2 else keep[..., None, :]
    return _apply(specgrams, keep, mask_value)
