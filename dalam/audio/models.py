"""Small speech models for spoken digits, rebuilt by the CLI from a run folder's
config.json (``dalam predict`` / ``dalam transcribe``).

- ``LogMel``: the shared front-end, waveform -> per-utterance normalised log-mel
  (40 mels, 32 ms window, 10 ms hop at 8 kHz), (..., n_mels, frames).
- ``SpectrogramCNN``: log-mel image -> 3 conv blocks -> global pooling -> digit.
- ``MFCCRNN``: MFCC frames -> bidirectional GRU/LSTM -> masked mean -> digit.
- ``CTCDigits``: log-mel -> conv1d (4x subsampling) -> BiLSTM -> 11 CTC classes (blank 0,
  digit d is class d + 1)."""
import json
import pathlib

import numpy as np

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat as dalam_cat
from ..tensor import Tensor
from ..creation import tensor as _tensor
from .transforms import MelSpectrogram, AmplitudeToDB, MFCC


class LogMel(nn.Module):
    """Waveform -> log-mel (dB) normalised per utterance (zero mean per mel bin,
    unit overall variance): removes most of the channel and speaker loudness."""

    def __init__(self, sample_rate=8000, n_fft=256, hop_length=80, n_mels=40, n_mfcc=0):
        super().__init__()
        self.sample_rate, self.n_fft, self.hop_length, self.n_mels, self.n_mfcc = \
            sample_rate, n_fft, hop_length, n_mels, n_mfcc
        mk = dict(n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, f_min=20.0)
        if n_mfcc:
            self.mfcc = MFCC(sample_rate, n_mfcc, melkwargs=mk)
        else:
            self.mel = MelSpectrogram(sample_rate, **mk)
            self.db = AmplitudeToDB("power", top_db=80.0)

    def config(self):
        return dict(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length,
                    n_mels=self.n_mels, n_mfcc=self.n_mfcc)

    def frames(self, n_samples):
        return n_samples // self.hop_length + 1

    def forward(self, waveform):
        f = self.mfcc(waveform) if self.n_mfcc else self.db(self.mel(waveform))
        f = f - f.mean(-1, keepdim=True)
        return f / (f.std() + 1e-5)


class SpectrogramCNN(nn.Module):
    def __init__(self, n_mels=40, n_classes=10, width=24, dropout=0.2):
        super().__init__()
        c = width

        def block(i, o):
            return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

        self.features = nn.Sequential(*block(1, c), nn.MaxPool2d(2), *block(c, 2 * c), nn.MaxPool2d(2),
                                      *block(2 * c, 4 * c), nn.MaxPool2d(2), *block(4 * c, 4 * c))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * c * 2, n_classes)

    def forward(self, x):                      # (B, n_mels, T)
        h = self.features(x.unsqueeze(1))      # (B, C, F', T')
        h = h.mean(2)                          # over frequency -> (B, C, T')
        h = dalam_cat([h.mean(-1), h.amax(-1)], 1)  # mean and max over time
        return self.fc(self.dropout(h))


class MFCCRNN(nn.Module):
    def __init__(self, n_in=20, hidden=64, n_classes=10, cell="gru", dropout=0.2):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"MFCCRNN: cell must be 'gru' or 'lstm', got {cell!r}")
        self.inp = nn.Sequential(nn.Conv1d(n_in, hidden, 3, padding=1), nn.BatchNorm1d(hidden), nn.ReLU())
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(hidden, hidden, batch_first=True,
                                                           bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * hidden, n_classes)

    def forward(self, x):                      # (B, n_in, T)
        h = self.inp(x).transpose(1, 2)        # (B, T, H)
        out, _ = self.rnn(h)
        pooled = dalam_cat([out.mean(1), out.amax(1)], 1)
        return self.fc(self.dropout(pooled))


class CTCDigits(nn.Module):
    def __init__(self, n_mels=40, channels=96, hidden=96, n_classes=11, dropout=0.1):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_mels, channels, 5, stride=2, padding=2), nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.BatchNorm1d(channels), nn.ReLU())
        self.rnn = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, n_classes)

    @staticmethod
    def output_lengths(frames):
        """Frames after the two stride-2 convolutions (kernel 5, padding 2)."""
        f = np.asarray(frames._data if isinstance(frames, Tensor) else frames)
        for _ in range(2):
            f = (f - 1) // 2 + 1
        return f

    def forward(self, x):                      # (B, n_mels, T) -> (T', B, C) log-probs
        h = self.conv(x).transpose(1, 2)
        out, _ = self.rnn(h)
        return F.log_softmax(self.fc(self.dropout(out)), -1).transpose(0, 1)


MODELS = {"SpectrogramCNN": SpectrogramCNN, "MFCCRNN": MFCCRNN, "CTCDigits": CTCDigits}


def save_run(run_dir, model, frontend, kind, model_args, extra=None):
    """model.safetensors + config.json (no pickle): what the CLI needs to rebuild it."""
    from ..io import save
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    save(model.state_dict(), run_dir / "model.safetensors")
    cfg = {"kind": kind, "model": type(model).__name__, "model_args": model_args,
           "frontend": frontend.config(), **(extra or {})}
    tmp = run_dir / ".config.json.part"
    tmp.write_text(json.dumps(cfg, indent=1))
    tmp.replace(run_dir / "config.json")


def load_run(run_dir):
    """(model in eval mode, LogMel front-end, config dict) from a run folder."""
    from ..io import load
    run_dir = pathlib.Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{run_dir}: no config.json; expected a run folder written by "
                                "examples/speech_digits.py or examples/speech_ctc.py")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("model") not in MODELS:
        raise ValueError(f"{cfg_path}: model {cfg.get('model')!r} is not a dalam.audio speech model")
    model = MODELS[cfg["model"]](**cfg["model_args"])
    model.load_state_dict(load(run_dir / "model.safetensors"))
    model.eval()
    frontend = LogMel(**cfg["frontend"])
    frontend.eval()
    return model, frontend, cfg
