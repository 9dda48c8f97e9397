"""Predict with a checkpoint: classify image files, or, for character
models, show the most likely next characters after each text.

    dalam predict runs/mnist_cnn digit.png other.png --top-k 3
    dalam predict runs/char_lstm "ROMEO: "

Character models take texts and show the most likely next characters.
Image models take any image Pillow reads (PNG, JPEG, ...) and prepare it as
the training data was: colour is converted to grayscale, a light background
is detected and inverted (the datasets have light strokes on black), the
object is cropped and resized keeping its aspect ratio (for MNIST: into a
20x20 box centred by its centre of mass in 28x28, as the dataset was made),
and a note says what was done (--exact: no preparation, the image must
already match)."""
import json
import pathlib
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory (or .safetensors file)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files (image models) or texts "
                                                              "(character models)")
    p.add_argument("--top-k", type=int, default=3, help="how many classes/characters to show")
    p.add_argument("--invert", action="store_true", help="always invert the image (default: invert when "
                                                         "the background is light)")
    p.add_argument("--no-invert", action="store_true", help="never invert the image")
    p.add_argument("--exact", action="store_true", help="no conversion or resizing: the image must match "
                                                        "the model's input already")
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


def prepare_image(path, pre, invert=False, exact=False, no_invert=False, notes=None, dataset=None):
    """The (1, C, H, W) float32 input the model expects.  Unless ``exact``, any image is
    converted (grayscale/colour, inverted when its background is light, cropped and
    resized keeping the aspect ratio) and ``notes`` (a list) receives what was done;
    with ``exact`` a mismatch is a one-line error naming the file."""
    a, mode = read_image(path)
    C, H, W = pre["channels"], pre["height"], pre["width"]
    want = f"{W}x{H} {'grayscale' if C == 1 else f'{C}-channel'}"
    notes = [] if notes is None else notes
    if exact:
        if C == 1 and a.ndim != 2:
            raise CLIError(f"{path}: image mode {mode}; the model takes {want} images (drop --exact to "
                           "convert it)")
        if C > 1 and (a.ndim != 3 or a.shape[2] < C):
            raise CLIError(f"{path}: image mode {mode}; the model takes {want} images")
        a = a[None] if C == 1 else np.moveaxis(a[..., :C], -1, 0)
        if a.shape[1:] != (H, W):
            raise CLIError(f"{path}: image is {a.shape[2]}x{a.shape[1]} (width x height); the model takes "
                           f"{want} images (drop --exact to resize it)")
    else:
        a = _to_channels(a, mode, C, notes)
        light = float(np.median(_border(a))) > 0.5
        if (light or invert) and not no_invert:
            a = 1.0 - a
            notes.append("inverted (light background)" if light and not invert else "inverted")
        bg, top = float(np.median(_border(a))), float(a.max())
        if top - bg > 0.05 and (bg > 0.02 or top < 0.98):  # grey paper, faint ink: black to white
            a = np.clip((a - bg) / (top - bg), 0, 1)
            notes.append(f"contrast stretched (background {bg:.2f} -> 0, brightest {top:.2f} -> 1)")
        a = _fit(a, H, W, mnist_style=(dataset == "mnist" and (H, W) == (28, 28)), notes=notes)
    if exact and invert:
        a = 1.0 - a
    a = (a - np.float32(pre["mean"])) / np.float32(pre["std"])
    return a[None].astype(np.float32)


def _to_channels(a, mode, C, notes):
    """(C, h, w) in [0, 1]: grayscale by ITU-R 601 luma, alpha composited on the background."""
    if a.ndim == 3 and a.shape[2] in (2, 4):  # alpha: transparent pixels take the background
        alpha = a[..., -1:]
        rgb = a[..., :-1]
        opaque = alpha[..., 0] > 0.5
        ink = float(rgb[opaque].mean()) if opaque.any() else 0.0
        bg = 1.0 if ink < 0.5 else 0.0  # dark strokes on transparency: white paper, and vice versa
        a = rgb * alpha + bg * (1 - alpha)
        notes.append(f"alpha composited ({mode})")
        if a.shape[2] == 1:
            a = a[..., 0]
    if C == 1:
        if a.ndim == 3:
            g = a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32) if a.shape[2] >= 3 else a[..., 0]
            notes.append(f"converted {mode} to grayscale")
            a = g
        return a[None].astype(np.float32)
    if a.ndim == 2:
        notes.append(f"grayscale repeated over {C} channels")
        return np.repeat(a[None], C, 0).astype(np.float32)
    return np.moveaxis(a[..., :C], -1, 0).astype(np.float32)


def _border(a):
    """The pixels on the image's edge, (C, n)."""
    return np.concatenate([a[:, 0, :], a[:, -1, :], a[:, :, 0], a[:, :, -1]], axis=1)


def _resize(a, h, w):
    """Resize (C, H, W) in [0, 1] with Pillow's antialiasing filter."""
    try:
        from PIL import Image
    except ImportError:
        raise CLIError("resizing images needs Pillow: pip install pillow") from None
    out = [np.asarray(Image.fromarray(ch.astype(np.float32), mode="F").resize((w, h), Image.LANCZOS))
           for ch in a]
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


def _fit(a, H, W, mnist_style, notes):
    """Crop to the object (strokes brighter than the background), resize keeping the aspect
    ratio, pad with black.  MNIST-style: a 20x20 box, centred by centre of mass in 28x28."""
    h0, w0 = a.shape[1:]
    ink = a.max(0)
    mask = ink > max(0.2, 0.5 * float(ink.max()))
    if mask.any():
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        a = a[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    box_h, box_w = (20, 20) if mnist_style else (H, W)
    scale = min(box_h / a.shape[1], box_w / a.shape[2])
    nh, nw = max(1, round(a.shape[1] * scale)), max(1, round(a.shape[2] * scale))
    a = _resize(a, nh, nw)
    out = np.zeros((a.shape[0], H, W), np.float32)
    top, left = (H - nh) // 2, (W - nw) // 2
    if mnist_style:  # centre of mass at the centre, as LeCun et al. built MNIST
        m = a.sum(0)
        if m.sum() > 0:
            cy = (m.sum(1) * np.arange(nh)).sum() / m.sum()
            cx = (m.sum(0) * np.arange(nw)).sum() / m.sum()
            top = int(np.clip(round(H / 2 - 0.5 - cy), 0, H - nh))
            left = int(np.clip(round(W / 2 - 0.5 - cx), 0, W - nw))
    out[:, top:top + nh, left:left + nw] = a
    if (h0, w0) != (H, W) or (nh, nw) != (H, W):
        notes.append(f"cropped and resized {w0}x{h0} -> {nw}x{nh}, padded to {W}x{H}")
    return out


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
            notes = []
            x = prepare_image(inp, pre, args.invert, args.exact, args.no_invert, notes,
                              meta.get("dataset", {}).get("name"))
            if notes and not args.json:
                print(f"{inp}: " + "; ".join(notes), file=sys.stderr)
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
