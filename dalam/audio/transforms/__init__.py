"""Audio transforms as Modules (torchaudio.transforms' names and arguments)."""
from .spectral import (Spectrogram, MelScale, MelSpectrogram, AmplitudeToDB, MFCC, InverseMelScale,
                       GriffinLim, Resample)
from .masking import TimeMasking, FrequencyMasking
from ..augment import AddNoise, SpeedPerturbation, TimeShift

__all__ = ["Spectrogram", "MelScale", "MelSpectrogram", "AmplitudeToDB", "MFCC", "InverseMelScale",
           "GriffinLim", "Resample", "TimeMasking", "FrequencyMasking", "AddNoise",
           "SpeedPerturbation", "TimeShift"]
