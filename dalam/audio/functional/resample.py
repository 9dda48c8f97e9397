"""Band-limited resampling by a windowed-sinc polyphase filter, written with
dalam ops (a strided conv1d), so it is differentiable.

The filter (the one torchaudio's ``sinc_interp_hann`` describes): reduce
orig/new by their gcd; for each of the ``new`` output phases j, a kernel of
taps t = -width..width+orig-1 (input offsets) samples
    sinc(pi * cutoff * (t/orig - j/new)) * hann window over +-lowpass_filter_width zero crossings,
cutoff = rolloff * min(orig, new) (in units of the slower rate), scaled by
cutoff / orig. Every ``orig`` input samples make ``new`` output samples.
For files, ``dalam.audio.load(..., sample_rate=)`` uses soxr (a reference
resampler, not differentiable) instead."""
import math

import numpy as np

from ...creation import tensor as _tensor
from ...tensor import Tensor


def sinc_kernel(orig_freq, new_freq, gcd, lowpass_filter_width=6, rolloff=0.99, beta=None,
                resampling_method="sinc_interp_hann", dtype=np.float32):
    if lowpass_filter_width <= 0:
        raise ValueError("resample: lowpass_filter_width must be positive")
    orig, new = orig_freq // gcd, new_freq // gcd
    base = min(orig, new) * rolloff
    width = math.ceil(lowpass_filter_width * orig / base)
    idx = np.arange(-width, width + orig, dtype=np.float64)[None, :] / orig
    t = -np.arange(new, dtype=np.float64)[:, None] / new + idx
    t = t * base
    t = np.clip(t, -lowpass_filter_width, lowpass_filter_width)
    if resampling_method == "sinc_interp_hann":
        window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    elif resampling_method == "sinc_interp_kaiser":
        beta = 14.769656459379492 if beta is None else beta
        window = np.i0(beta * np.sqrt(1 - (t / lowpass_filter_width) ** 2)) / np.i0(beta)
    else:
        raise ValueError(f"resample: resampling_method must be 'sinc_interp_hann' or "
                         f"'sinc_interp_kaiser', got {resampling_method!r}")
    t = t * math.pi
    scale = base / orig
    kernels = np.where(t == 0, 1.0, np.sin(t) / np.where(t == 0, 1.0, t)) * window * scale
    return kernels.astype(dtype)[:, None, :], width               # (new, 1, taps)


def resample(waveform, orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99,
             resampling_method="sinc_interp_hann", beta=None, kernel=None):
    """torchaudio.functional.resample: (..., time) -> (..., ceil(new * time / orig))."""
    if orig_freq <= 0 or new_freq <= 0 or int(orig_freq) != orig_freq or int(new_freq) != new_freq:
        raise ValueError(f"resample: orig_freq and new_freq must be positive integers, got "
                         f"{orig_freq} and {new_freq}")
    x = waveform if isinstance(waveform, Tensor) else _tensor(np.asarray(waveform, np.float32))
    orig_freq, new_freq = int(orig_freq), int(new_freq)
    if orig_freq == new_freq:
        return x
    g = math.gcd(orig_freq, new_freq)
    if kernel is None:
        kernel, width = sinc_kernel(orig_freq, new_freq, g, lowpass_filter_width, rolloff, beta,
                                    resampling_method, x.dtype)
    else:
        kernel, width = kernel
    orig, new = orig_freq // g, new_freq // g
    from ...ops.conv import conv1d
    from ...ops.shape import pad
    shape = x.shape
    n = shape[-1]
    x2 = x.reshape(-1, 1, n)
    x2 = pad(x2, (width, width + orig))
    y = conv1d(x2, _tensor(kernel.astype(x.dtype, copy=False)), stride=orig)   # (B, new, frames)
    y = y.transpose(1, 2).reshape(x2.shape[0], -1)
    target = int(math.ceil(new * n / orig))
    y = y[..., :target]
    return y.reshape(shape[:-1] + (target,))
