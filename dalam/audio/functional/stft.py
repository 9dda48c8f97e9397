"""The short-time Fourier transform built from dalam ops, so autograd flows
through it: framing (one Function with an overlap-add backward) and a matmul
with a windowed DFT matrix (real and imaginary parts side by side)."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...autograd.function import Function
from ...tensor import Tensor
from ...creation import tensor as _tensor
from .windows import hann_window


class Frames(Function):
    """(..., n) -> (..., n_frames, n_fft): optional centre padding (reflect /
    constant / replicate), then overlapping frames every ``hop`` samples."""

    def forward(self, x, n_fft, hop, pad, pad_mode):
        self.n, self.pad, self.mode, self.hop, self.n_fft = x.shape[-1], pad, pad_mode, hop, n_fft
        if pad:
            mode = {"reflect": "reflect", "constant": "constant", "replicate": "edge",
                    "circular": "wrap"}[pad_mode]
            x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode=mode)
        self.length = x.shape[-1]
        return np.ascontiguousarray(sliding_window_view(x, n_fft, axis=-1)[..., ::hop, :])

    def backward(self, g):
        # overlap-add: frame f covers [f*hop, f*hop+n_fft); add chunks of width <= hop
        lead, n_frames, hop = g.shape[:-2], g.shape[-2], self.hop
        out = np.zeros(lead + (self.n_fft + n_frames * hop,), g.dtype)
        for j in range(0, self.n_fft, hop):
            w = min(hop, self.n_fft - j)
            view = out[..., j:j + n_frames * hop].reshape(lead + (n_frames, hop))
            view[..., :w] += g[..., j:j + w]
        out = out[..., :self.length]
        p, n = self.pad, self.n
        if not p:
            return out
        gx = out[..., p:p + n].copy()
        if self.mode == "reflect":     # padded[i] = x[p - i], padded[p+n+j] = x[n-2-j]
            gx[..., 1:p + 1] += out[..., :p][..., ::-1]
            gx[..., n - 1 - p:n - 1] += out[..., p + n:][..., ::-1]
        elif self.mode == "replicate":
            gx[..., 0] += out[..., :p].sum(-1)
            gx[..., -1] += out[..., p + n:].sum(-1)
        elif self.mode == "circular":
            gx[..., n - p:] += out[..., :p]
            gx[..., :p] += out[..., p + n:]
        return gx


def frame(x, n_fft, hop_length, pad=0, pad_mode="reflect"):
    """Overlapping frames of the last dimension: (..., n) -> (..., n_frames, n_fft)."""
    n = x.shape[-1]
    if pad_mode not in ("reflect", "constant", "replicate", "circular"):
        raise ValueError(f"spectrogram: pad_mode must be reflect, constant, replicate or circular; "
                         f"got {pad_mode!r}")
    if pad_mode == "reflect" and pad and pad >= n:
        raise ValueError(f"spectrogram: a waveform of {n} samples is too short for centre padding "
                         f"of {pad} with pad_mode='reflect' (n_fft={n_fft}): give at least {pad + 1} "
                         "samples, or pass center=False / pad_mode='constant'")
    if n + 2 * pad < n_fft:
        raise ValueError(f"spectrogram: a waveform of {n} samples (padded to {n + 2 * pad}) is shorter "
                         f"than n_fft={n_fft}: use a smaller n_fft or a longer recording")
    return Frames.apply(x, int(n_fft), int(hop_length), int(pad), pad_mode)


def _window_array(window, win_length, n_fft, dtype):
    w = window._data if isinstance(window, Tensor) else np.asarray(window)
    if w.ndim != 1 or w.shape[0] != win_length:
        raise ValueError(f"spectrogram: the window has shape {tuple(w.shape)}, expected ({win_length},) "
                         "= (win_length,)")
    if win_length > n_fft:
        raise ValueError(f"spectrogram: win_length={win_length} is larger than n_fft={n_fft}")
    full = np.zeros(n_fft, np.float64)
    left = (n_fft - win_length) // 2   # torch.stft centres a short window in the frame
    full[left:left + win_length] = w
    return full


def dft_basis(window, n_fft, onesided=True, scale=1.0, dtype=np.float32):
    """(n_fft, 2F) matrix: [w cos | -w sin] columns, so frames @ basis = [Re | Im]."""
    n_freq = n_fft // 2 + 1 if onesided else n_fft
    k = np.arange(n_fft)[:, None]
    f = np.arange(n_freq)[None, :]
    ang = 2 * np.pi * ((k * f) % n_fft) / n_fft
    w = window[:, None] * scale
    return np.concatenate([w * np.cos(ang), -w * np.sin(ang)], axis=1).astype(dtype)


def _norm_scale(normalized, window, win_length, n_fft):
    if normalized is True or normalized == "window":
        return 1.0 / np.sqrt(np.sum(window ** 2))
    if normalized == "frame_length":
        return 1.0 / np.sqrt(n_fft)
    if normalized is False or normalized is None:
        return 1.0
    raise ValueError(f"spectrogram: normalized must be True/False, 'window' or 'frame_length'; "
                     f"got {normalized!r}")


def stft_parts(waveform, n_fft, hop_length, win_length, window, center=True, pad_mode="reflect",
               normalized=False, onesided=True, basis=None):
    """Real and imaginary parts, each (..., n_frames, F) (time before frequency)."""
    x = waveform if isinstance(waveform, Tensor) else _tensor(np.asarray(waveform))
    if x.dtype.kind != "f":
        raise TypeError(f"spectrogram: expected a floating waveform, got dtype {x.dtype}")
    if basis is None:
        w = _window_array(window, win_length, n_fft, x.dtype)
        basis = dft_basis(w, n_fft, onesided, _norm_scale(normalized, w, win_length, n_fft), x.dtype)
    fr = frame(x, n_fft, hop_length, n_fft // 2 if center else 0, pad_mode)
    b = basis if isinstance(basis, Tensor) else _tensor(np.asarray(basis, x.dtype))
    out = fr.matmul(b)
    F = b.shape[1] // 2
    return out[..., :F], out[..., F:]


def spectrogram(waveform, pad, window, n_fft, hop_length, win_length, power, normalized,
                center=True, pad_mode="reflect", onesided=True, return_complex=None, basis=None):
    """torchaudio.functional.spectrogram: (..., time) -> (..., freq, frames);
    ``power=None`` returns the real and imaginary parts stacked in a last
    dimension of 2 (``torch.view_as_real`` of the complex STFT)."""
    x = waveform if isinstance(waveform, Tensor) else _tensor(np.asarray(waveform, np.float32))
    if pad:
        from ...ops.shape import pad as _pad
        x = _pad(x, (pad, pad))
    re, im = stft_parts(x, n_fft, hop_length, win_length, window, center, pad_mode, normalized,
                        onesided, basis)
    if power is None:
        from ...ops.shape import stack
        return stack([re, im], -1).transpose(-2, -3)
    p = re * re + im * im
    if power == 2:
        s = p
    elif power == 1:
        s = p.sqrt()
    elif power > 0:
        s = p ** (power / 2)
    else:
        raise ValueError(f"spectrogram: power must be positive or None, got {power}")
    return s.transpose(-1, -2)


# ---- inverse STFT (numpy; used by Griffin-Lim for listening back, no gradient) ----

def _stft_complex(x, n_fft, hop, window, center):
    pad = n_fft // 2 if center else 0
    if pad:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    fr = sliding_window_view(x, n_fft, axis=-1)[..., ::hop, :] * window
    return np.swapaxes(np.fft.rfft(fr, axis=-1), -1, -2)           # (..., F, T)


def istft(spec, n_fft, hop_length, window, center=True, length=None):
    """Inverse of a complex (..., F, T) STFT by windowed overlap-add, divided by
    the summed squared window (torch.istft's and librosa's least-squares inverse)."""
    spec = np.asarray(spec)
    frames = np.fft.irfft(np.swapaxes(spec, -1, -2), n=n_fft, axis=-1) * window
    lead, T = frames.shape[:-2], frames.shape[-2]
    total = n_fft + hop_length * (T - 1)
    y = np.zeros(lead + (total,), frames.dtype)
    wsum = np.zeros(total, np.float64)
    w2 = window ** 2
    for t in range(T):
        s = t * hop_length
        y[..., s:s + n_fft] += frames[..., t, :]
        wsum[s:s + n_fft] += w2
    nz = wsum > 1e-11
    y[..., nz] /= wsum[nz]
    start = n_fft // 2 if center else 0
    if length is None:
        end = total - start
    else:
        end = start + length
    y = y[..., start:end]
    if length is not None and y.shape[-1] < length:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - y.shape[-1])])
    return y


def default_window(win_length, window_fn=None, wkwargs=None):
    fn = hann_window if window_fn is None else window_fn
    w = fn(win_length, **(wkwargs or {}))
    return w._data if isinstance(w, Tensor) else np.asarray(w)
