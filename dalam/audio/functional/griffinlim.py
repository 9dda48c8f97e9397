"""Griffin-Lim phase reconstruction and the inverse mel scale, for listening
back to a spectrogram (numpy, no gradient: these are decoders, not layers)."""
import numpy as np

from ...creation import tensor as _tensor
from ...tensor import Tensor
from .stft import _stft_complex, istft


def griffinlim(specgram, window, n_fft, hop_length, win_length, power, n_iter, momentum, length,
               rand_init, generator=None):
    """torchaudio.functional.griffinlim: ``specgram`` is |STFT| ** power,
    (..., freq, frames); returns the waveform (..., time). With
    ``rand_init=False`` the phases start at 0, as librosa's ``init=None``."""
    if not 0 <= momentum < 1:
        raise ValueError(f"griffinlim: momentum must be in [0, 1), got {momentum}")
    s = specgram._data if isinstance(specgram, Tensor) else np.asarray(specgram)
    dtype = s.dtype if s.dtype.kind == "f" else np.float32
    w = window._data if isinstance(window, Tensor) else np.asarray(window)
    full = np.zeros(n_fft, np.float64)
    left = (n_fft - win_length) // 2
    full[left:left + win_length] = w
    mag = s.astype(np.float64) ** (1.0 / power)
    if rand_init:
        rng = generator.rng if generator is not None else __import__("dalam").backend.rng()
        angles = np.exp(2j * np.pi * rng.random(mag.shape))
    else:
        angles = np.ones(mag.shape, np.complex128)
    tprev = 0.0
    for _ in range(n_iter):
        inverse = istft(mag * angles, n_fft, hop_length, full, True, length)
        rebuilt = _stft_complex(inverse, n_fft, hop_length, full, True)
        angles = rebuilt - tprev * (momentum / (1 + momentum)) if momentum else rebuilt
        angles = angles / (np.abs(angles) + 1e-16)
        tprev = rebuilt
    out = istft(mag * angles, n_fft, hop_length, full, True, length)
    return _tensor(out.astype(dtype))


def inverse_mel_scale(melspec, fb, n_iter=500):
    """Non-negative least squares: the spectrogram S >= 0 minimising
    ||fb.T @ S - melspec||, ``fb`` (freq, mels). Starts from the clamped
    minimum-norm solution (what torchaudio's 'gelsd' driver returns) and runs
    projected gradient steps (step 1/L, L = ||fb.T||_2^2), which keeps the
    mel energies that clamping alone loses."""
    m = melspec._data if isinstance(melspec, Tensor) else np.asarray(melspec)
    f = fb._data if isinstance(fb, Tensor) else np.asarray(fb)
    if m.shape[-2] != f.shape[1]:
        raise ValueError(f"InverseMelScale: the mel spectrogram has {m.shape[-2]} mel bins (dim -2), "
                         f"the filter bank expects n_mels={f.shape[1]}")
    A = f.T.astype(np.float64)                                   # (mels, freq)
    lead = m.shape[:-2]
    M = np.moveaxis(m.reshape(-1, m.shape[-2], m.shape[-1]).astype(np.float64), 1, 0).reshape(m.shape[-2], -1)
    S = np.maximum(np.linalg.lstsq(A, M, rcond=None)[0], 0.0)    # (freq, items * time)
    AtA, AtM = A.T @ A, A.T @ M
    step = 1.0 / max(np.linalg.norm(AtA, 2), 1e-12)
    for _ in range(n_iter):
        S = np.maximum(S - step * (AtA @ S - AtM), 0.0)
    S = np.moveaxis(S.reshape(f.shape[0], -1, m.shape[-1]), 0, 1).reshape(lead + (f.shape[0], m.shape[-1]))
    return _tensor(S.astype(m.dtype if m.dtype.kind == "f" else np.float32))
