"""dalam.audio: audio files, spectral transforms as differentiable ops, and
augmentation, with torchaudio's names.

- ``io``: load / save / info (soundfile, lazily imported: ``pip install dalam[audio]``)
- ``functional``: spectrogram, melscale_fbanks, create_dct, amplitude_to_DB, griffinlim, resample, ...
- ``transforms``: Spectrogram, MelSpectrogram, MFCC, AmplitudeToDB, InverseMelScale, GriffinLim,
  Resample, TimeMasking, FrequencyMasking, AddNoise, SpeedPerturbation, TimeShift
- ``augment``: time_shift, add_noise, speed
"""
from . import functional, transforms, augment, io
from .io import load, save, info, load_mono

__all__ = ["functional", "transforms", "augment", "io", "load", "save", "info", "load_mono"]
