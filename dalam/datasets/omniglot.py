"""Omniglot (Lake et al., Science 2015): 1,623 handwritten characters from 50
alphabets, 20 drawers each, and the 20 runs of the original one-shot task.

Files are the zips of GitHub ``brendenlake/omniglot`` (``python/``), read
straight from the zip (no extraction).  Where they are looked for: ``root``,
then ``$DALAM_DATA``, then ``~/.cache/dalam`` (then ``../shared/data`` beside
a development checkout), each in ``omniglot/`` or directly; a missing zip is
downloaded into the first of those folders and checked by MD5.

PNG decoding needs Pillow (``pip install dalam[fewshot]``), imported only when
images are read.  Images are returned as uint8 arrays with the *ink high*
(strokes 255 on a 0 background, ``invert=True``), the convention few-shot
papers train with; ``invert=False`` keeps the files' black-on-white.
"""
import io
import os
import pathlib
import re
import zipfile

import numpy as np

from ..data.dataset import Dataset
from ..data.collate import default_collate
from ..tensor import Tensor
from ._fetch import fetch

_DEV_DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"
_BASE = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
# name -> (zip file, MD5)
RESOURCES = {
    "background": ("images_background.zip", "68d2efa1b9178cc56df9314c21c6e718"),
    "evaluation": ("images_evaluation.zip", "6b91aef0f799c5bb55b94e3f2daec811"),
    "background_small1": ("images_background_small1.zip", "e704a628b5459e08445c13499850abc4"),
    "background_small2": ("images_background_small2.zip", "b75a71a51d3b13f821f212756fe481fd"),
    "runs": ("all_runs.zip", "e8996daecdf12afeeb4a53a179f06b19"),
}
ORIGINAL_SIZE = 105


class OmniglotFormatError(ValueError):
    """A PNG in an Omniglot zip that is not a 105x105 one-channel image."""


def _dirs(root):
    if root is not None:
        return [pathlib.Path(root).expanduser()]
    dirs = []
    env = os.environ.get("DALAM_DATA")
    if env:
        dirs.append(pathlib.Path(env).expanduser())
    dirs.append(pathlib.Path("~/.cache/dalam").expanduser())
    if _DEV_DATA.is_dir():
        dirs.append(_DEV_DATA)
    return dirs


def find_zip(name, root=None, download=True, mirror=_BASE):
    """Path of one of ``RESOURCES``'s zips, downloading (MD5-checked) if missing."""
    if name not in RESOURCES:
        raise ValueError(f"Omniglot: unknown part {name!r}; expected one of {sorted(RESOURCES)}")
    fname, md5 = RESOURCES[name]
    for d in _dirs(root):
        for p in (d / "omniglot" / fname, d / fname):
            if p.is_file():
                return p
    where = ", ".join(str(d) for d in _dirs(root))
    if not download:
        raise FileNotFoundError(f"Omniglot: {fname} not found under {where} (in omniglot/ or directly); "
                                "pass download=True, root=DIR or set $DALAM_DATA")
    dest = _dirs(root)[0] / "omniglot" / fname
    fetch([mirror + fname], dest, md5)
    return dest


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - Pillow is in the dev extra
        raise ImportError("Omniglot decodes PNG files with Pillow: pip install 'dalam[fewshot]' "
                          "(or pip install pillow)") from e
    return Image


def decode_png(data, name, size=28, invert=True):
    """One Omniglot PNG (bytes) -> uint8 (size, size).  The file must be a
    105x105 one-channel image (mode '1' or 'L'); anything else raises
    OmniglotFormatError naming ``name``."""
    Image = _pil()
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as e:
        raise OmniglotFormatError(f"Omniglot: {name} is not a readable PNG ({e}); the file is corrupt: "
                                  "delete it (or its zip) and download again") from e
    if im.mode not in ("1", "L"):
        raise OmniglotFormatError(f"Omniglot: {name} has image mode {im.mode!r}, expected a one-channel "
                                  "image (mode '1' or 'L', black strokes on white); convert it to "
                                  "grayscale first")
    if im.size != (ORIGINAL_SIZE, ORIGINAL_SIZE):
        raise OmniglotFormatError(f"Omniglot: {name} is {im.size[0]}x{im.size[1]} pixels, expected "
                                  f"{ORIGINAL_SIZE}x{ORIGINAL_SIZE} (the Omniglot drawing size); this "
                                  "is not an original Omniglot file")
    im = im.convert("L")
    if size != ORIGINAL_SIZE:
        # area averaging keeps thin strokes visible at 28x28 (nearest would drop them)
        im = im.resize((size, size), Image.BOX)
    a = np.asarray(im, dtype=np.uint8)
    return 255 - a if invert else a.copy()


def _check_size(size):
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 4 <= size <= ORIGINAL_SIZE:
        raise ValueError(f"Omniglot: image_size must be an int in [4, {ORIGINAL_SIZE}] (28 is the usual "
                         f"few-shot size, {ORIGINAL_SIZE} the original), got {size!r}")
    return int(size)


def _check_rotations(rotations):
    rot = tuple(int(r) for r in rotations)
    if not rot or len(set(rot)) != len(rot) or any(r % 90 for r in rot):
        raise ValueError(f"Omniglot: rotations must be distinct multiples of 90 degrees, e.g. (0,) or "
                         f"(0, 90, 180, 270), got {rotations!r}")
    return rot


class Omniglot(Dataset):
    """Omniglot's character images, one class per character (per rotation).

    ``split``: ``'background_small1'`` (5 alphabets, 136 characters),
    ``'background_small2'`` (5 alphabets, 156), ``'background_small'`` (both:
    the "minimal" training sets of the one-shot challenge; they share Greek
    and Latin, counted once: 8 alphabets, 242 characters), ``'background'``
    (964 characters) or ``'evaluation'`` (659); ``background=True/False`` is
    torchvision's spelling of the last two.
    ``image_size``: 28 (usual for few-shot learning) or 105 (original).
    ``rotations``: e.g. ``(0, 90, 180, 270)`` makes every rotation of a
    character a class of its own (4x the classes, as Santoro et al. 2016 and
    later few-shot papers do).

    ``data`` uint8 (N, S, S); ``targets`` int64 (N,); ``classes`` names
    ``'Alphabet/characterNN'`` (``'.../rot90'`` for rotated copies);
    ``alphabets`` int64 (N,) the alphabet index of each image (for episodes
    within one alphabet).  ``ds[i]`` is ``(image, class)``.
    """

    def __init__(self, root=None, split=None, background=None, image_size=28, rotations=(0,),
                 invert=True, transform=None, target_transform=None, download=True):
        if split is None:
            split = "background_small" if background is None else (
                "background" if background else "evaluation")
        parts = {"background_small": ("background_small1", "background_small2")}.get(split, (split,))
        if split == "runs" or any(p not in RESOURCES for p in parts):
            raise ValueError(f"Omniglot: unknown split {split!r}; expected 'background_small1', "
                             "'background_small2', 'background_small', 'background' or 'evaluation' "
                             "(the one-shot runs are OmniglotRuns)")
        self.split = split
        self.image_size = _check_size(image_size)
        self.rotations = _check_rotations(rotations)
        self.transform, self.target_transform = transform, target_transform
        imgs, chars, alph_names, char_names = [], [], [], []
        for part in parts:
            path = find_zip(part, root, download)
            self._read_zip(path, invert, imgs, chars, alph_names, char_names)
        base = np.stack(imgs) if imgs else np.zeros((0, self.image_size, self.image_size), np.uint8)
        chars = np.asarray(chars, np.int64)
        alph_of_char = np.asarray([alph_names.index(c.split("/")[0]) for c in char_names], np.int64)
        R = len(self.rotations)
        self.data = np.concatenate([np.rot90(base, r // 90, axes=(1, 2)) for r in self.rotations])
        self.data = np.ascontiguousarray(self.data)
        # class of (character c, rotation k) = c * R + k
        self.targets = np.concatenate([chars * R + k for k in range(R)])
        self.classes = [c if r == 0 else f"{c}/rot{r}" for c in char_names for r in self.rotations]
        self.alphabet_names = alph_names
        self.alphabets = np.concatenate([alph_of_char[chars]] * R)
        self.class_alphabets = np.repeat(alph_of_char, R)

    def _read_zip(self, path, invert, imgs, chars, alph_names, char_names):
        try:
            z = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise OmniglotFormatError(f"Omniglot: {path} is not a valid zip ({e}); delete it and "
                                      "download again") from e
        with z:
            names = sorted(n for n in z.namelist() if n.lower().endswith(".png"))
            if not names:
                raise OmniglotFormatError(f"Omniglot: {path} holds no PNG files")
            # the two minimal sets share two alphabets (Greek and Latin, the same files):
            # characters an earlier zip already gave are skipped, not counted twice
            earlier = set(char_names)
            for n in names:
                parts = n.split("/")
                if len(parts) < 3:
                    raise OmniglotFormatError(f"Omniglot: {path}:{n} is not in an Alphabet/characterNN/ "
                                              "folder")
                alphabet, character = parts[-3], parts[-2]
                key = f"{alphabet}/{character}"
                if key in earlier:
                    continue
                if not char_names or char_names[-1] != key:
                    if key in char_names:
                        raise OmniglotFormatError(f"Omniglot: {path}: character {key} appears twice")
                    char_names.append(key)
                    if alphabet not in alph_names:
                        alph_names.append(alphabet)
                imgs.append(decode_png(z.read(n), f"{path}:{n}", self.image_size, invert))
                chars.append(len(char_names) - 1)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return default_collate([self[int(i)] for i in indices])
        return (Tensor._make(self.data[indices], False, None),
                Tensor._make(self.targets[indices], False, None))

    def as_tensors(self):
        """Everything at once: x float32 (N, 1, S, S) in [0, 1], y int64 (N,)."""
        x = np.divide(self.data, np.float32(255), dtype=np.float32)[:, None]
        return Tensor._make(x, False, None), Tensor._make(self.targets.copy(), False, None)

    @property
    def num_classes(self):
        return len(self.classes)

    def __repr__(self):
        return (f"Dataset Omniglot\n    Number of datapoints: {len(self)}\n    Split: {self.split}\n"
                f"    Classes: {self.num_classes} ({len(self.alphabet_names)} alphabets, rotations "
                f"{self.rotations})\n    Image size: {self.image_size}")


class OmniglotRuns:
    """The 20 runs of Lake et al.'s one-shot classification task.

    Each run is 20 characters of one evaluation alphabet: one training
    drawing each (``support``, uint8 (20, S, S), class k = ``classNN`` with
    NN = k + 1) and 20 test drawings by other people (``query``, uint8
    (20, S, S)), whose answers come from the run's ``class_labels.txt``
    (``labels``, int64 (20,) indices into support).  ``runs[i]`` is a dict
    with these keys plus ``name``.  Score: the error rate over all 400 test
    items (``dalam.fewshot.evaluate_runs``).
    """

    _LINE = re.compile(r"^\s*(\S+/test/item(\d+)\.png)\s+(\S+/training/class(\d+)\.png)\s*$")

    def __init__(self, root=None, image_size=28, invert=True, download=True):
        self.image_size = _check_size(image_size)
        path = find_zip("runs", root, download)
        self.path = path
        self.runs = []
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            run_names = sorted({n.split("/")[0] for n in names if re.match(r"run\d+/", n)})
            for r in run_names:
                self.runs.append(self._read_run(z, names, r, invert))
        if not self.runs:
            raise OmniglotFormatError(f"Omniglot: {path} holds no runNN/ folders")

    def _read_run(self, z, names, run, invert):
        lab = f"{run}/class_labels.txt"
        if lab not in names:
            raise OmniglotFormatError(f"Omniglot: {self.path}:{lab} is missing (the run's answer key)")
        train = sorted(n for n in names if n.startswith(f"{run}/training/") and n.endswith(".png"))
        test = sorted(n for n in names if n.startswith(f"{run}/test/") and n.endswith(".png"))
        train_index = {n: i for i, n in enumerate(train)}
        test_index = {n: i for i, n in enumerate(test)}
        labels = np.full(len(test), -1, np.int64)
        for ln, line in enumerate(z.read(lab).decode().splitlines(), 1):
            if not line.strip():
                continue
            m = self._LINE.match(line)
            if not m or m.group(1) not in test_index or m.group(3) not in train_index:
                raise OmniglotFormatError(f"Omniglot: {self.path}:{lab} line {ln} is {line!r}; expected "
                                          "'runNN/test/itemKK.png runNN/training/classKK.png' naming "
                                          "files of the run")
            labels[test_index[m.group(1)]] = train_index[m.group(3)]
        if (labels < 0).any():
            missing = [test[i] for i in np.flatnonzero(labels < 0)]
            raise OmniglotFormatError(f"Omniglot: {self.path}:{lab} gives no answer for {missing}")
        dec = lambda n: decode_png(z.read(n), f"{self.path}:{n}", self.image_size, invert)  # noqa: E731
        return {"name": run, "support": np.stack([dec(n) for n in train]),
                "query": np.stack([dec(n) for n in test]), "labels": labels}

    def __len__(self):
        return len(self.runs)

    def __getitem__(self, i):
        return self.runs[i]

    def __iter__(self):
        return iter(self.runs)

    def characters(self):
        """The runs' evaluation characters as a labelled set for N-way K-shot
        episodes: ``(images uint8 (M, S, S), targets int64 (M,))`` with one
        class per (run, training class) and all its drawings (the training
        drawing and the test drawing of it: 2 per class)."""
        imgs, ys = [], []
        for r, run in enumerate(self.runs):
            n = len(run["support"])
            imgs += [run["support"], run["query"]]
            ys += [r * n + np.arange(n), r * n + run["labels"]]
        return np.concatenate(imgs), np.concatenate(ys).astype(np.int64)

    def __repr__(self):
        return f"OmniglotRuns({len(self)} runs of 20-way 1-shot, image size {self.image_size})"
