"""Reading and writing audio files through soundfile (libsndfile: WAV, FLAC,
OGG, ...), imported lazily: ``pip install dalam[audio]``."""
import os
import pathlib

import numpy as np

from ...creation import tensor as _tensor
from ...tensor import Tensor


def _soundfile():
    try:
        import soundfile
    except ImportError as e:
        raise ImportError("dalam.audio needs the 'soundfile' package to read and write audio files: "
                          "pip install 'dalam[audio]' (or pip install soundfile)") from e
    return soundfile


def _open_error(path, e):
    return ValueError(f"{path}: not a readable audio file ({e}). Expected WAV/FLAC/OGG: convert it, "
                      "e.g. ffmpeg -i input -ar 8000 -ac 1 out.wav")


def info(path):
    """(sample_rate, num_frames, num_channels, format, subtype) of a file, without reading samples."""
    sf = _soundfile()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such audio file")
    try:
        i = sf.info(path)
    except Exception as e:  # libsndfile's errors
        raise _open_error(path, e) from None
    return {"sample_rate": i.samplerate, "num_frames": i.frames, "num_channels": i.channels,
            "format": i.format, "subtype": i.subtype}


def load(path, frame_offset=0, num_frames=-1, normalize=True, channels_first=True, *,
         sample_rate=None):
    """torchaudio.load: (waveform float32 Tensor (channels, time), sample_rate).
    ``normalize=False`` keeps integer PCM as int16/int32. ``sample_rate=`` resamples
    with soxr (high quality) and returns that rate."""
    sf = _soundfile()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such audio file")
    try:
        with sf.SoundFile(path) as f:
            sr = f.samplerate
            if frame_offset:
                f.seek(frame_offset)
            dtype = "float32" if normalize else ("int16" if f.subtype == "PCM_16" else "int32")
            data = f.read(frames=num_frames, dtype=dtype, always_2d=True)
    except Exception as e:
        if isinstance(e, (FileNotFoundError, MemoryError)):
            raise
        raise _open_error(path, e) from None
    if sample_rate is not None and sample_rate != sr:
        if not normalize:
            raise ValueError(f"load({path}): resampling needs normalize=True (float samples)")
        data = resample_array(data, sr, sample_rate, axis=0)
        sr = sample_rate
    if channels_first:
        data = data.T
    return _tensor(np.ascontiguousarray(data)), sr


def save(path, src, sample_rate, channels_first=True, format=None, encoding=None, bits_per_sample=None):
    """torchaudio.save: write (channels, time) float samples in [-1, 1] (WAV
    PCM_16 by default, FLAC by extension); written to a temporary file and renamed."""
    sf = _soundfile()
    a = src._data if isinstance(src, Tensor) else np.asarray(src)
    if a.ndim == 1:
        a = a[None, :] if channels_first else a[:, None]
    if a.ndim != 2:
        raise ValueError(f"save({path}): expected (channels, time) samples, got shape {a.shape}")
    if channels_first:
        a = a.T
    path = pathlib.Path(path)
    fmt = (format or path.suffix.lstrip(".") or "wav").upper()
    subtype = {8: "PCM_U8", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32"}.get(bits_per_sample, None)
    if encoding == "PCM_F" or (a.dtype == np.float64 and bits_per_sample == 64):
        subtype = "FLOAT" if bits_per_sample != 64 else "DOUBLE"
    if subtype is None:
        subtype = "PCM_16"
    tmp = path.with_name(f".{path.name}.part")
    try:
        sf.write(str(tmp), a, int(sample_rate), subtype=subtype, format=fmt)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def resample_array(x, orig_sr, target_sr, axis=-1):
    """Resample a numpy array with soxr (VHQ); the reference resampler for files."""
    try:
        import soxr
    except ImportError as e:
        raise ImportError("resampling a file needs the 'soxr' package: pip install 'dalam[audio]' "
                          "(or use dalam.audio.transforms.Resample, which needs nothing)") from e
    x = np.asarray(x, np.float32)
    moved = np.moveaxis(x, axis, 0)
    y = soxr.resample(moved, orig_sr, target_sr, quality="VHQ")
    return np.moveaxis(np.asarray(y, np.float32), 0, axis)


def load_mono(path, sample_rate=None, mix_down=False):
    """A model's input: a 1-D float32 waveform at ``sample_rate``. Errors name
    the file: not audio, empty, or several channels (unless ``mix_down``)."""
    wav, sr = load(path, sample_rate=sample_rate)
    if wav.shape[0] > 1:
        if not mix_down:
            raise ValueError(f"{path}: {wav.shape[0]} channels, expected mono (1 channel): mix it down "
                             "(e.g. ffmpeg -i in.wav -ac 1 out.wav, or pass mix_down=True / --mix-down)")
        wav = wav.mean(0, keepdim=True)
    if wav.shape[1] == 0:
        raise ValueError(f"{path}: the recording is empty (0 samples)")
    return wav[0], sr
