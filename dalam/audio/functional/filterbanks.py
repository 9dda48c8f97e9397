"""Mel filter banks and the DCT matrix, with torchaudio's formulas (the same
triangles as librosa.filters.mel: HTK or Slaney mel scale, optional Slaney
area normalisation)."""
import math

import numpy as np

from ...creation import tensor as _tensor


def hz_to_mel(freq, mel_scale="htk"):
    freq = np.asarray(freq, np.float64)
    if mel_scale == "htk":
        return 2595.0 * np.log10(1.0 + freq / 700.0)
    if mel_scale != "slaney":
        raise ValueError(f"mel_scale must be 'htk' or 'slaney', got {mel_scale!r}")
    # Slaney: linear below 1 kHz, logarithmic above
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mels = freq / f_sp
    return np.where(freq >= min_log_hz, min_log_mel + np.log(np.maximum(freq, 1e-10) / min_log_hz)
                    / logstep, mels)


def mel_to_hz(mels, mel_scale="htk"):
    mels = np.asarray(mels, np.float64)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    if mel_scale != "slaney":
        raise ValueError(f"mel_scale must be 'htk' or 'slaney', got {mel_scale!r}")
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), f_sp * mels)


def melscale_fbanks_array(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    if norm not in (None, "slaney"):
        raise ValueError(f"melscale_fbanks: norm must be None or 'slaney', got {norm!r}")
    if f_max is None:
        f_max = float(sample_rate // 2)
    if not 0 <= f_min < f_max:
        raise ValueError(f"melscale_fbanks: need 0 <= f_min < f_max, got f_min={f_min}, f_max={f_max}")
    all_freqs = np.linspace(0, sample_rate // 2, n_freqs)
    m_pts = np.linspace(hz_to_mel(f_min, mel_scale), hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = mel_to_hz(m_pts, mel_scale)
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - all_freqs[:, None]                  # (n_freqs, n_mels + 2)
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    if norm == "slaney":
        fb *= 2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels])
    if (fb.max(axis=0) == 0).any():
        import warnings
        warnings.warn(f"melscale_fbanks: at least one mel filter has all-zero values (n_mels={n_mels} is "
                      f"too high for n_freqs={n_freqs}); lower n_mels or raise n_fft", stacklevel=3)
    return fb


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    """torchaudio.functional.melscale_fbanks: (n_freqs, n_mels) float32 Tensor."""
    return _tensor(melscale_fbanks_array(n_freqs, f_min, f_max, n_mels, sample_rate, norm,
                                         mel_scale).astype(np.float32))


def create_dct_array(n_mfcc, n_mels, norm="ortho"):
    if norm not in (None, "ortho"):
        raise ValueError(f"create_dct: norm must be None or 'ortho', got {norm!r}")
    n = np.arange(n_mels, dtype=np.float64)
    k = np.arange(n_mfcc, dtype=np.float64)[:, None]
    dct = np.cos(np.pi / n_mels * (n + 0.5) * k)                  # (n_mfcc, n_mels)
    if norm is None:
        dct *= 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct *= math.sqrt(2.0 / n_mels)
    return dct.T                                                   # (n_mels, n_mfcc)


def create_dct(n_mfcc, n_mels, norm="ortho"):
    """torchaudio.functional.create_dct: DCT-II matrix (n_mels, n_mfcc)."""
    return _tensor(create_dct_array(n_mfcc, n_mels, norm).astype(np.float32))
