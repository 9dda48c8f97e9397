"""The Free Spoken Digit Dataset (Jakobovski et al.): 3,000 WAV recordings,
6 speakers x 10 digits x 50, mono 8 kHz 16-bit PCM.

Files are found under ``root`` / ``$DALAM_DATA`` / ``~/.cache/dalam`` as
``fsdd/recordings/{digit}_{speaker}_{index}.wav``; when missing, the release
archive of the dataset's GitHub repository (tag v1.0.10) is downloaded into the
cache and its recordings are checked against a manifest (GitHub's archive bytes
are not stable, so the recordings themselves are checked).

Splits: ``split="test"`` is index 0-4 of every speaker and digit (300 files),
``"train"`` index 5-49 (2,700), as the dataset's README defines them. With
``holdout_speaker=NAME``, ``"test"`` is every recording of that speaker and
``"train"`` every recording of the other five (speaker-independent).

Items: ``(waveform, sample_rate, digit, speaker)`` with waveform a 1-D float32
Tensor in [-1, 1). The files are read with the standard library's ``wave``
module, so this dataset needs no audio package.
"""
import hashlib
import os
import pathlib
import re
import tarfile
import tempfile
import wave

import numpy as np

from ..tensor import Tensor
from ._files import search_dirs

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
# md5 of the sorted lines "recordings/NAME md5(file)" of all 3,000 recordings, joined by "\n"
MANIFEST_MD5 = "52ad20c5c07575a3d15f3e669bd12d0e"
N_FILES = 3000
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def manifest_md5(rec_dir):
    lines = sorted(f"recordings/{p.name} {hashlib.md5(p.read_bytes()).hexdigest()}"
                   for p in pathlib.Path(rec_dir).glob("*.wav"))
    return hashlib.md5("\n".join(lines).encode()).hexdigest()


def read_wav(path):
    """(float32 samples in [-1, 1), sample_rate) of a 16-bit PCM WAV; clear errors."""
    try:
        with wave.open(str(path), "rb") as w:
            ch, width, sr, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise ValueError(f"{path}: not a valid WAV file ({e}); delete it and reload to download again")
    if width != 2 or ch != 1:
        raise ValueError(f"{path}: expected mono 16-bit PCM, got {ch} channel(s) of {8 * width}-bit")
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0, sr


def _download(dest_root):
    from ._fetch import fetch
    dest_root = pathlib.Path(dest_root)
    rec = dest_root / "fsdd" / "recordings"
    with tempfile.TemporaryDirectory(dir=dest_root) as tmp:
        archive = fetch([URL], pathlib.Path(tmp) / "fsdd.tar.gz", None, timeout=120)
        staging = pathlib.Path(tmp) / "recordings"
        staging.mkdir()
        with tarfile.open(archive, "r:gz") as tf:
            for m in tf.getmembers():
                parts = m.name.split("/")
                if m.isfile() and len(parts) >= 2 and parts[-2] == "recordings" and _NAME.match(parts[-1]):
                    with tf.extractfile(m) as src:
                        (staging / parts[-1]).write_bytes(src.read())
        got = manifest_md5(staging)
        if got != MANIFEST_MD5:
            raise RuntimeError(f"FSDD: the downloaded recordings do not match the manifest (md5 {got}, "
                               f"expected {MANIFEST_MD5}); the archive at {URL} may have changed")
        rec.parent.mkdir(parents=True, exist_ok=True)
        if rec.exists():
            raise RuntimeError(f"FSDD: {rec} exists but is incomplete; remove it and try again")
        os.replace(staging, rec)
    return rec


def find_recordings(root=None, download=True):
    for d in search_dirs(root):
        rec = d / "fsdd" / "recordings"
        if rec.is_dir():
            n = sum(1 for _ in rec.glob("*.wav"))
            if n == N_FILES:
                return rec
            if n:
                raise RuntimeError(f"FSDD: {rec} holds {n} recordings, expected {N_FILES}: remove the "
                                   "folder to download it again")
    if not download:
        raise FileNotFoundError("FSDD: no fsdd/recordings folder under root, $DALAM_DATA or "
                                "~/.cache/dalam (pass download=True to fetch it)")
    cache = pathlib.Path(root).expanduser() if root is not None else pathlib.Path("~/.cache/dalam").expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    return _download(cache)


class FSDD:
    """Free Spoken Digit Dataset; see the module docstring for splits and items."""

    def __init__(self, root=None, split="train", holdout_speaker=None, download=True, transform=None,
                 verify=False):
        if split not in ("train", "test"):
            raise ValueError(f"FSDD: split must be 'train' or 'test', got {split!r}")
        if holdout_speaker is not None and holdout_speaker not in SPEAKERS:
            raise ValueError(f"FSDD: holdout_speaker must be one of {', '.join(SPEAKERS)}; "
                             f"got {holdout_speaker!r}")
        self.split, self.holdout_speaker, self.transform = split, holdout_speaker, transform
        self.folder = find_recordings(root, download)
        if verify and manifest_md5(self.folder) != MANIFEST_MD5:
            raise RuntimeError(f"FSDD: the recordings in {self.folder} do not match the manifest")
        files = []
        for p in sorted(self.folder.glob("*.wav")):
            m = _NAME.match(p.name)
            if not m:
                continue
            digit, speaker, index = int(m.group(1)), m.group(2), int(m.group(3))
            if holdout_speaker is None:
                keep = (index < 5) == (split == "test")
            else:
                keep = (speaker == holdout_speaker) == (split == "test")
            if keep:
                files.append((p, digit, speaker, index))
        self.files = files
        self.sample_rate = 8000
        self._cache = {}

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        p, digit, speaker, _ = self.files[i]
        x = self._cache.get(i)
        if x is None:
            x, sr = read_wav(p)
            if sr != self.sample_rate:
                raise ValueError(f"{p}: sample rate {sr}, expected {self.sample_rate}")
            self._cache[i] = x
        w = Tensor._make(x, False, None)
        if self.transform is not None:
            w = self.transform(w)
        return w, self.sample_rate, digit, speaker

    @property
    def digits(self):
        return np.array([f[1] for f in self.files], np.int64)

    @property
    def speakers(self):
        return [f[2] for f in self.files]

    @staticmethod
    def collate(batch):
        """(padded waveforms (B, T), lengths (B,), sample rates, digits (B,), speakers list)."""
        from ..audio.batching import pad_collate
        return pad_collate(batch)

    def __repr__(self):
        extra = f", holdout_speaker={self.holdout_speaker!r}" if self.holdout_speaker else ""
        return f"FSDD(split={self.split!r}{extra}, n={len(self)}, folder={str(self.folder)!r})"
