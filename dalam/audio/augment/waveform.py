"""Waveform augmentation: time shift, noise mixed at a given SNR, speed
perturbation. Random choices come from ``generator`` (dalam.Generator or a
numpy Generator) or dalam's global RNG, so a seed reproduces them; the maths
is dalam ops, so gradients flow to the waveform."""
import math

import numpy as np

from ...nn.module import Module
from ...creation import tensor as _tensor
from ...tensor import Tensor
from ..functional.masking import _rng
from ..functional.resample import resample


def _t(x, who):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _tensor(x)
    raise TypeError(f"{who}: expected a Tensor, got {type(x).__name__}")


def time_shift(waveform, shift, mode="zeros"):
    """Delay (shift > 0) or advance (shift < 0) by ``shift`` samples; the gap is
    zeros (``mode='zeros'``) or the samples that fell off (``'roll'``)."""
    x = _t(waveform, "time_shift")
    n, s = x.shape[-1], int(shift)
    if mode == "roll":
        return x.roll(s, -1)
    if mode != "zeros":
        raise ValueError(f"time_shift: mode must be 'zeros' or 'roll', got {mode!r}")
    if s == 0:
        return x
    if abs(s) >= n:
        return x * 0
    from ...ops.shape import pad
    return pad(x[..., :n - s], (s, 0)) if s > 0 else pad(x[..., -s:], (0, -s))


def add_noise(waveform, noise, snr, lengths=None):
    """torchaudio.functional.add_noise: waveform + scale * noise with scale set so
    that 10 log10(P_signal / P_scaled_noise) = snr (dB), per leading index.
    ``lengths`` (optional) limits the energy sums to each item's valid samples."""
    x, nz = _t(waveform, "add_noise"), _t(noise, "add_noise")
    if x.shape != nz.shape:
        raise ValueError(f"add_noise: waveform {tuple(x.shape)} and noise {tuple(nz.shape)} must have "
                         "the same shape: crop or tile the noise first")
    snr = _t(snr, "add_noise") if not isinstance(snr, (int, float)) else snr
    if lengths is not None:
        lens = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
        mask = (np.arange(x.shape[-1]) < lens[..., None]).astype(x.dtype)
        nz_m = nz * _tensor(mask)
        x_m = x * _tensor(mask)
    else:
        nz_m, x_m = nz, x
    e_sig = (x_m * x_m).sum(-1)
    e_noise = (nz_m * nz_m).sum(-1)
    if (e_noise._data == 0).any():
        raise ValueError("add_noise: the noise is all zeros: nothing to scale to an SNR")
    original_snr_db = (e_sig.log10() - e_noise.log10()) * 10
    scale = ((original_snr_db - snr) * (math.log(10) / 20)).exp()
    return x + scale.unsqueeze(-1) * nz


def speed(waveform, orig_freq, factor, lengths=None):
    """torchaudio.functional.speed: play ``factor`` times faster (pitch and tempo
    both change) by resampling orig_freq * factor -> orig_freq."""
    if factor <= 0:
        raise ValueError(f"speed: factor must be positive, got {factor}")
    source = int(round(orig_freq * factor))
    g = math.gcd(source, orig_freq)
    y = resample(_t(waveform, "speed"), source // g, orig_freq // g)
    if lengths is None:
        return y, None
    lens = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    return y, _tensor(np.ceil(lens * (orig_freq // g) / (source // g)).astype(np.int64))


class TimeShift(Module):
    """Shift by a uniform random integer in [-max_shift, max_shift] samples (training mode only)."""

    def __init__(self, max_shift, mode="zeros", *, generator=None):
        super().__init__()
        self.max_shift, self.mode, self.generator = int(max_shift), mode, generator

    def forward(self, waveform):
        if not self.training or self.max_shift == 0:
            return waveform
        s = int(_rng(self.generator).integers(-self.max_shift, self.max_shift + 1))
        return time_shift(waveform, s, self.mode)


class AddNoise(Module):
    """torchaudio.transforms.AddNoise: forward(waveform, noise, snr, lengths=None).
    With ``snr_range=(lo, hi)`` given instead, forward(waveform, noise) draws the
    SNR uniformly per call (seeded)."""

    def __init__(self, snr_range=None, *, generator=None):
        super().__init__()
        self.snr_range, self.generator = snr_range, generator

    def forward(self, waveform, noise, snr=None, lengths=None):
        if snr is None:
            if self.snr_range is None:
                raise ValueError("AddNoise: pass snr= (dB) or build AddNoise(snr_range=(lo, hi))")
            lo, hi = self.snr_range
            snr = float(_rng(self.generator).uniform(lo, hi))
        return add_noise(waveform, noise, snr, lengths)


class SpeedPerturbation(Module):
    """torchaudio.transforms.SpeedPerturbation: one factor drawn from ``factors``
    per call (seeded); returns (waveform, lengths)."""

    def __init__(self, orig_freq, factors, *, generator=None):
        super().__init__()
        if not factors:
            raise ValueError("SpeedPerturbation: factors must be a non-empty list, e.g. [0.9, 1.0, 1.1]")
        self.orig_freq, self.factors, self.generator = int(orig_freq), list(factors), generator

    def forward(self, waveform, lengths=None):
        f = self.factors[int(_rng(self.generator).integers(len(self.factors)))]
        return speed(waveform, self.orig_freq, f, lengths)
