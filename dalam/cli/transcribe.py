"""Transcribe spoken digits in audio files with a speech run folder (written
by examples/speech_ctc.py, or examples/speech_digits.py for one digit per file).

    dalam transcribe runs/fsdd_ctc call.wav other.flac --beam 8
    dalam predict runs/fsdd_cnn 7_theo_0.wav          # a one-digit classifier

Files are read with soundfile (WAV/FLAC/OGG) and must be mono (or pass
--mix-down); another sample rate (e.g. 44.1 kHz) is resampled with soxr to
the model's rate (8 kHz for FSDD models)."""
import json
import pathlib

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("run_dir", help="run folder with config.json + model.safetensors")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG)")
    p.add_argument("--beam", type=int, default=0, help="prefix beam search width (0: greedy)")
    p.add_argument("--mix-down", action="store_true", help="average the channels of stereo files")
    p.add_argument("--top-k", type=int, default=3, help="classes to show for one-digit models")
    p.add_argument("--json", action="store_true", help="print JSON lines")


def speech_run(path):
    """True when ``path`` is a speech run folder (config.json of dalam.audio models)."""
    cfg = pathlib.Path(path) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return json.loads(cfg.read_text()).get("kind") in ("digits", "ctc_digits")
    except (ValueError, OSError):
        return False


def _load(run_dir):
    from ..audio.models import load_run
    if not pathlib.Path(run_dir).is_dir():
        raise CLIError(f"{run_dir}: no such run folder")
    try:
        return load_run(run_dir)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise CLIError(str(e)) from None


def _waveform(path, frontend, mix_down):
    from ..audio.io import load_mono
    from ..audio.io.files import info
    p = pathlib.Path(path)
    if not p.is_file():
        raise CLIError(f"{p}: no such audio file")
    try:
        sr = info(p)["sample_rate"]
        wav, _ = load_mono(p, sample_rate=frontend.sample_rate, mix_down=mix_down)
    except ImportError as e:
        raise CLIError(str(e)) from None
    except ValueError as e:
        raise CLIError(str(e)) from None
    note = f"resampled {sr} Hz -> {frontend.sample_rate} Hz" if sr != frontend.sample_rate else None
    min_len = frontend.n_fft // 2 + 1
    if wav.shape[0] < min_len:
        raise CLIError(f"{p}: only {wav.shape[0]} samples ({wav.shape[0] / frontend.sample_rate * 1000:.0f} ms); "
                       f"need at least {min_len} at {frontend.sample_rate} Hz")
    return wav, note


def _features(frontend, wav):
    from ..autograd.grad_mode import no_grad
    with no_grad():
        return frontend(wav).numpy()


def classify(model, frontend, cfg, wav):
    from ..autograd.grad_mode import no_grad
    from ..creation import tensor
    f = _features(frontend, wav)
    T = cfg.get("frames", 64)
    n = f.shape[-1]
    if n >= T:
        s = (n - T) // 2
        f = f[:, s:s + T]
    else:
        g = np.zeros((f.shape[0], T), np.float32)
        g[:, (T - n) // 2:(T - n) // 2 + n] = f
        f = g
    with no_grad():
        logits = model(tensor(f[None])).numpy()[0].astype(np.float64)
    p = np.exp(logits - logits.max())
    return p / p.sum()


def transcribe(model, frontend, wav, beam=0):
    from ..autograd.grad_mode import no_grad
    from ..creation import tensor
    from ..audio.decoding import ctc_greedy_decode, ctc_prefix_beam_search
    f = _features(frontend, wav)
    with no_grad():
        lp = model(tensor(f[None])).numpy()[:, 0]
    labs = ctc_prefix_beam_search(lp, beam)[0] if beam else ctc_greedy_decode(lp)
    return [c - 1 for c in labs]


def _report(args, path, note, payload, text):
    if args.json:
        print(json.dumps({"file": str(path), **payload, **({"note": note} if note else {})}))
    else:
        print(f"{path}: {text}" + (f"  ({note})" if note else ""))


def run_files(args, run_dir, files):
    model, frontend, cfg = _load(run_dir)
    for path in files:
        wav, note = _waveform(path, frontend, args.mix_down)
        if cfg["kind"] == "ctc_digits":
            digits = transcribe(model, frontend, wav, args.beam)
            _report(args, path, note, {"digits": "".join(map(str, digits))}, "".join(map(str, digits)) or "(no digits)")
        else:
            p = classify(model, frontend, cfg, wav)
            top = np.argsort(-p)[:max(1, args.top_k)]
            _report(args, path, note, {"prediction": int(top[0]),
                                       "top": [{"digit": int(i), "probability": float(p[i])} for i in top]},
                    "  ".join(f"{i} ({p[i]:.3f})" for i in top))
    return 0


def run(args):
    return run_files(args, args.run_dir, args.files)


def predict_audio(args):
    """`dalam predict RUN_DIR file.wav`: the same, for speech run folders."""
    args.beam = getattr(args, "beam", 0)
    args.mix_down = getattr(args, "mix_down", False)
    return run_files(args, args.checkpoint, args.inputs)
