"""Predict with a checkpoint: classify image files, or, for character
models, show the most likely next characters after each text.

    dalam predict runs/mnist_cnn digit.png other.png --top-k 3
    dalam predict runs/char_lstm "ROMEO: " --text

Images are read with Pillow (or matplotlib when Pillow is missing) and must
match what the model was trained on: for MNIST-style models a 28x28
grayscale image, white digit on black, as in the dataset (--invert for a
dark digit on a light background)."""
import json
import pathlib

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory (or .safetensors file)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (image models) or texts "
                                                              "(character models)")
    p.add_argument("--top-k", type=int, default=3, help="how many classes/characters to show")
    p.add_argument("--invert", action="store_true", help="invert the image first (dark on light)")
    p.add_argument("--best", action="store_true", help="use the best checkpoint instead of the last")
    p.add_argument("--json", action="store_true", help="print JSON lines")


def read_image(path):
    """(array float32 in [0, 1] of shape (H, W) or (H, W, C), mode string)."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise CLIError(f"no such image file: {p}")
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        try:
            with Image.open(p) as im:
                mode = im.mode
                if mode == "P":  # a palette image: grayscale when its palette is
                    rgb = np.asarray(im.convert("RGB"))
                    gray = bool((rgb == rgb[..., :1]).all())
                    a = rgb[..., 0] if gray else rgb
                    mode = "L" if gray else "P (a colour palette)"
                else:
                    a = np.asarray(im)
        except Exception as e:  # PIL raises UnidentifiedImageError, OSError, ...
            raise CLIError(f"{p}: not a readable image ({e})") from None
        if a.dtype == np.bool_:
            a = a.astype(np.float32)
        elif a.dtype.kind in "ui":
            a = a.astype(np.float32) / np.float32(255 if a.max(initial=0) <= 255 else 65535)
        if mode == "LA":
            a = a[..., 0]
        return a.astype(np.float32), mode
    try:
        import matplotlib.image as mpimg
        a = mpimg.imread(str(p))
    except ImportError:
        raise CLIError("reading images needs Pillow or matplotlib: pip install pillow") from None
    except Exception as e:
        raise CLIError(f"{p}: not a readable image ({e})") from None
    if a.dtype.kind in "ui":
        a = a.astype(np.float32) / 255
    mode = "L" if a.ndim == 2 else {3: "RGB", 4: "RGBA"}.get(a.shape[2], f"{a.shape[2]}-channel")
    return a.astype(np.float32), mode


def prepare_image(path, pre, invert=False):
    """The (1, C, H, W) float32 input the model expects, or a one-line error
    naming the file, what it is and what the model takes."""
    a, mode = read_image(path)
    C, H, W = pre["channels"], pre["height"], pre["width"]
    want = f"{W}x{H} {'grayscale' if C == 1 else f'{C}-channel'}"
    if C == 1:
        if a.ndim != 2:
            raise CLIError(f"{path}: image mode {mode} ({a.shape[2] if a.ndim == 3 else '?'} channels); the "
                           f"model takes {want} images: convert it to grayscale (mode L)")
        a = a[None]
    else:
        if a.ndim != 3 or a.shape[2] < C:
            raise CLIError(f"{path}: image mode {mode}; the model takes {want} images")
        a = np.moveaxis(a[..., :C], -1, 0)
    if a.shape[1:] != (H, W):
        raise CLIError(f"{path}: image is {a.shape[2]}x{a.shape[1]} (width x height); the model takes "
                       f"{want} images: resize it to {W}x{H}")
    if invert:
        a = 1.0 - a
    a = (a - np.float32(pre["mean"])) / np.float32(pre["std"])
    return a[None].astype(np.float32)


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def run(args):
    from .transcribe import speech_run
    if speech_run(args.checkpoint):  # audio files with a dalam.audio speech model
        from .transcribe import predict_audio
        return predict_audio(args)
    from ..autograd.grad_mode import no_grad
    from ..tensor import Tensor
    from .checkpoint import load_model
    model, meta, _ = load_model(args.checkpoint, "best" if args.best else "last")
    pre = meta["preprocess"]
    k = max(1, args.top_k)
    for inp in args.inputs:
        if pre["kind"] == "image":
            x = prepare_image(inp, pre, args.invert)
            with no_grad():
                out = model(Tensor._make(x, False, None))
            p = _softmax(np.asarray(out._data, np.float64)[0])
            names = pre["classes"]
        else:
            from ..text import CharVocab
            vocab = CharVocab(pre["vocab"])
            bad = sorted({c for c in inp if c not in vocab.stoi})
            if bad or not inp:
                raise CLIError(f"text {inp!r}: characters outside the model's vocabulary: {bad!r}" if bad
                               else "empty text: give at least one character")
            ids = vocab.encode(inp)
            limit = meta["model"]["args"].get("block_size")
            if limit:
                ids = ids[-limit:]
            with no_grad():
                out = model(Tensor._make(ids[None], False, None))
            logits = out[0] if isinstance(out, (tuple, list)) else out
            p = _softmax(np.asarray(logits._data, np.float64)[0, -1])
            names = [repr(c) for c in vocab.itos]
        top = np.argsort(-p)[:k]
        if args.json:
            print(json.dumps({"input": inp, "prediction": int(top[0]), "label": names[top[0]],
                              "top": [{"index": int(i), "label": names[i], "probability": float(p[i])}
                                      for i in top]}))
        else:
            shown = "  ".join(f"{names[i]} ({p[i]:.3f})" for i in top)
            print(f"{inp}: {shown}")
    return 0
