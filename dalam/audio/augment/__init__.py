"""Augmentation: waveform-level (shift, noise at SNR, speed) here; SpecAugment
masks live in dalam.audio.transforms (TimeMasking, FrequencyMasking)."""
from .waveform import time_shift, add_noise, speed, TimeShift, AddNoise, SpeedPerturbation

__all__ = ["time_shift", "add_noise", "speed", "TimeShift", "AddNoise", "SpeedPerturbation"]
