"""Spectral transforms as Modules, with torchaudio.transforms' names and
arguments. Each keeps its window / DFT matrix / filter bank as a buffer, so
calls on a batch are one framing op plus matmuls."""
import math

import numpy as np

from ...nn.module import Module
from ...creation import tensor as _tensor
from ...tensor import Tensor
from .. import functional as AF
from ..functional.stft import _window_array, dft_basis, _norm_scale
from ..functional.filterbanks import melscale_fbanks_array, create_dct_array
from ..functional.resample import sinc_kernel


def _as_tensor(x, who):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _tensor(x)
    raise TypeError(f"{who}: expected a Tensor waveform/spectrogram, got {type(x).__name__}")


class Spectrogram(Module):
    """|STFT| ** power, (..., time) -> (..., n_fft // 2 + 1, frames).
    ``center`` pads n_fft // 2 on both sides with ``pad_mode`` (reflect), so
    frame t is centred at t * hop_length; ``normalized`` divides by the
    window's L2 norm; ``power=None`` gives (re, im) in a last dim of 2."""

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=None,
                 power=2.0, normalized=False, wkwargs=None, center=True, pad_mode="reflect",
                 onesided=True, return_complex=None):
        super().__init__()
        self.n_fft = int(n_fft)
        self.win_length = int(win_length) if win_length is not None else self.n_fft
        self.hop_length = int(hop_length) if hop_length is not None else self.win_length // 2
        if self.hop_length <= 0:
            raise ValueError(f"Spectrogram: hop_length must be positive, got {self.hop_length}")
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        w = AF.stft.default_window(self.win_length, window_fn, wkwargs)
        self.register_buffer("window", _tensor(np.asarray(w, np.float32)))
        full = _window_array(w, self.win_length, self.n_fft, np.float64)
        scale = _norm_scale(normalized, full, self.win_length, self.n_fft)
        self._basis = {}
        self._basis64 = dft_basis(full, self.n_fft, onesided, scale, np.float64)

    def basis(self, dtype):
        b = self._basis.get(np.dtype(dtype))
        if b is None:
            b = self._basis[np.dtype(dtype)] = _tensor(self._basis64.astype(dtype))
        return b

    def forward(self, waveform):
        x = _as_tensor(waveform, "Spectrogram")
        return AF.spectrogram(x, self.pad, self.window, self.n_fft, self.hop_length, self.win_length,
                              self.power, self.normalized, self.center, self.pad_mode, self.onesided,
                              basis=self.basis(x.dtype))


class MelScale(Module):
    """(..., n_stft, time) -> (..., n_mels, time) by the triangular filter bank."""

    def __init__(self, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, n_stft=201, norm=None,
                 mel_scale="htk"):
        super().__init__()
        self.n_mels, self.sample_rate, self.f_min = n_mels, sample_rate, f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.norm, self.mel_scale = norm, mel_scale
        fb = melscale_fbanks_array(n_stft, f_min, self.f_max, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", _tensor(fb.astype(np.float32)))
        self._fb64 = fb

    def forward(self, specgram):
        s = _as_tensor(specgram, "MelScale")
        if s.shape[-2] != self.fb.shape[0]:
            raise ValueError(f"MelScale: the spectrogram has {s.shape[-2]} frequency bins (dim -2), "
                             f"expected n_stft={self.fb.shape[0]} (= n_fft // 2 + 1)")
        fb = self.fb if s.dtype == np.float32 else _tensor(self._fb64.astype(s.dtype))
        return s.transpose(-1, -2).matmul(fb).transpose(-1, -2)


class MelSpectrogram(Module):
    """Spectrogram then MelScale (torchaudio's defaults: HTK mel scale, no norm)."""

    def __init__(self, sample_rate=16000, n_fft=400, win_length=None, hop_length=None, f_min=0.0,
                 f_max=None, pad=0, n_mels=128, window_fn=None, power=2.0, normalized=False,
                 wkwargs=None, center=True, pad_mode="reflect", onesided=None, norm=None,
                 mel_scale="htk"):
        super().__init__()
        self.sample_rate, self.n_fft, self.n_mels = sample_rate, n_fft, n_mels
        self.spectrogram = Spectrogram(n_fft, win_length, hop_length, pad, window_fn, power,
                                       normalized, wkwargs, center, pad_mode, True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale)
        self.hop_length = self.spectrogram.hop_length
        self.win_length = self.spectrogram.win_length

    def forward(self, waveform):
        return self.mel_scale(self.spectrogram(waveform))


class AmplitudeToDB(Module):
    """Power (``stype='power'``, 10 log10) or magnitude (``'magnitude'``, 20 log10)
    to decibels, floored at ``top_db`` below the maximum."""

    def __init__(self, stype="power", top_db=None):
        super().__init__()
        if stype not in ("power", "magnitude"):
            raise ValueError(f"AmplitudeToDB: stype must be 'power' or 'magnitude', got {stype!r}")
        if top_db is not None and top_db < 0:
            raise ValueError(f"AmplitudeToDB: top_db must be non-negative, got {top_db}")
        self.stype, self.top_db = stype, top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin, self.ref_value = 1e-10, 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        return AF.amplitude_to_DB(_as_tensor(x, "AmplitudeToDB"), self.multiplier, self.amin,
                                  self.db_multiplier, self.top_db)


class MFCC(Module):
    """Mel spectrogram -> dB (top_db=80) or log(mel + 1e-6) -> DCT-II (ortho):
    (..., time) -> (..., n_mfcc, frames)."""

    def __init__(self, sample_rate=16000, n_mfcc=40, dct_type=2, norm="ortho", log_mels=False,
                 melkwargs=None):
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"MFCC: only DCT type 2 is supported, got dct_type={dct_type}")
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = sample_rate, n_mfcc, dct_type, norm
        self.log_mels, self.top_db = log_mels, 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        n_mels = self.MelSpectrogram.n_mels
        if n_mfcc > n_mels:
            raise ValueError(f"MFCC: n_mfcc={n_mfcc} cannot be larger than n_mels={n_mels}")
        self._dct64 = create_dct_array(n_mfcc, n_mels, norm)
        self.register_buffer("dct_mat", _tensor(self._dct64.astype(np.float32)))

    def forward(self, waveform):
        mel = self.MelSpectrogram(waveform)
        mel = (mel + 1e-6).log() if self.log_mels else self.amplitude_to_DB(mel)
        dct = self.dct_mat if mel.dtype == np.float32 else _tensor(self._dct64.astype(mel.dtype))
        return mel.transpose(-1, -2).matmul(dct).transpose(-1, -2)


class InverseMelScale(Module):
    """Mel spectrogram -> linear-frequency spectrogram by non-negative least squares
    (projected gradient from torchaudio's clamped 'gelsd' solution). Not differentiable: for listening."""

    def __init__(self, n_stft, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, norm=None,
                 mel_scale="htk", driver="gelsd"):
        super().__init__()
        self.n_stft, self.n_mels = n_stft, n_mels
        fb = melscale_fbanks_array(n_stft, f_min, f_max, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", _tensor(fb.astype(np.float32)))
        self._fb64 = fb

    def forward(self, melspec):
        return AF.inverse_mel_scale(_as_tensor(melspec, "InverseMelScale"), self._fb64)


class GriffinLim(Module):
    """|STFT| ** power -> waveform by Griffin-Lim with momentum (Perraudin et al.)."""

    def __init__(self, n_fft=400, n_iter=32, win_length=None, hop_length=None, window_fn=None,
                 power=2.0, wkwargs=None, momentum=0.99, length=None, rand_init=True):
        super().__init__()
        self.n_fft, self.n_iter = n_fft, n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.power, self.momentum, self.length, self.rand_init = power, momentum, length, rand_init
        w = AF.stft.default_window(self.win_length, window_fn, wkwargs)
        self.register_buffer("window", _tensor(np.asarray(w, np.float32)))

    def forward(self, specgram, generator=None):
        s = _as_tensor(specgram, "GriffinLim")
        if s.shape[-2] != self.n_fft // 2 + 1:
            raise ValueError(f"GriffinLim: expected {self.n_fft // 2 + 1} frequency bins (n_fft // 2 + 1) "
                             f"in dim -2, got {s.shape[-2]}")
        return AF.griffinlim(s, self.window._data.astype(np.float64), self.n_fft, self.hop_length,
                             self.win_length, self.power, self.n_iter, self.momentum, self.length,
                             self.rand_init, generator)


class Resample(Module):
    """Windowed-sinc polyphase resampling (differentiable; see functional.resample)."""

    def __init__(self, orig_freq=16000, new_freq=16000, resampling_method="sinc_interp_hann",
                 lowpass_filter_width=6, rolloff=0.99, beta=None, *, dtype=None):
        super().__init__()
        self.orig_freq, self.new_freq = int(orig_freq), int(new_freq)
        self.lowpass_filter_width, self.rolloff = lowpass_filter_width, rolloff
        self.resampling_method, self.beta = resampling_method, beta
        self.gcd = math.gcd(self.orig_freq, self.new_freq)
        if self.orig_freq != self.new_freq:
            self._kernel = sinc_kernel(self.orig_freq, self.new_freq, self.gcd, lowpass_filter_width,
                                       rolloff, beta, resampling_method, np.float64)

    def forward(self, waveform):
        x = _as_tensor(waveform, "Resample")
        if self.orig_freq == self.new_freq:
            return x
        return AF.resample(x, self.orig_freq, self.new_freq, kernel=self._kernel)
