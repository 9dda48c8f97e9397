"""Functional twins of dalam.audio.transforms, with torchaudio.functional's names."""
from .windows import hann_window, hamming_window
from .stft import spectrogram, frame, istft, dft_basis
from .filterbanks import melscale_fbanks, create_dct, hz_to_mel, mel_to_hz
from .db import amplitude_to_DB, DB_to_amplitude
from .griffinlim import griffinlim, inverse_mel_scale
from .resample import resample
from .masking import mask_along_axis, mask_along_axis_iid

__all__ = ["hann_window", "hamming_window", "spectrogram", "frame", "istft", "dft_basis",
           "melscale_fbanks", "create_dct", "hz_to_mel", "mel_to_hz", "amplitude_to_DB",
           "DB_to_amplitude", "griffinlim", "inverse_mel_scale", "resample", "mask_along_axis",
           "mask_along_axis_iid"]
