"""SST-2 (GLUE): binary sentence sentiment.  train.tsv (67,349 phrases and
sentences) and dev.tsv (872 sentences), columns ``sentence<TAB>label``, text
lower-cased and PTB-tokenised.  GLUE's test split has no labels, so
evaluation uses dev."""
import io
import zipfile

import numpy as np

from . import _files

URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
MD5 = {"train": "da409a0a939379ed32a470bc0f7fe99a", "dev": "268856b487b2a31a28c0a93daaff7288"}
_DIRS = ("sentiment/sst2", "sst2", "SST-2", "glue_data/SST-2")


def _path(split, root, download):
    p = _files.find([f"{d}/{split}.tsv" for d in _DIRS], root)
    if p is not None:
        return p
    if not download:
        dirs = ", ".join(str(d) for d in _files.search_dirs(root))
        raise FileNotFoundError(f"SST2: {split}.tsv not found under {dirs} (looked in "
                                f"{', '.join(_DIRS)}); pass download=True")
    base = _files.search_dirs(root)[0]
    z = _files.download(URL, base / "SST-2.zip", None)
    dest = base / "sentiment" / "sst2"
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(z) as zf:
        for s in ("train", "dev"):
            data = zf.read(f"SST-2/{s}.tsv")
            (dest / f"{s}.tsv").write_bytes(data)
    for s in ("train", "dev"):
        got = _files.md5sum(dest / f"{s}.tsv")
        if got != MD5[s]:
            raise RuntimeError(f"SST2: {s}.tsv has MD5 {got}, expected {MD5[s]}")
    return dest / f"{split}.tsv"


def read_tsv(path):
    sentences, labels = [], []
    with io.open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        if header[:2] != ["sentence", "label"]:
            raise ValueError(f"SST2: {path} should start with a 'sentence<TAB>label' header, "
                             f"got {header}")
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            s, lab = line.rsplit("\t", 1)
            sentences.append(s.strip())
            labels.append(int(lab))
    return sentences, np.asarray(labels, np.int64)


class SST2:
    """``SST2(split='train'|'dev')``: item i is (sentence str, label int)."""

    def __init__(self, root=None, split="train", download=True):
        split = {"validation": "dev", "val": "dev"}.get(split, split)
        if split not in ("train", "dev"):
            raise ValueError(f"SST2: split must be 'train' or 'dev' (GLUE test has no labels), "
                             f"got {split!r}")
        self.split = split
        self.sentences, self.labels = read_tsv(_path(split, root, download))

    def __len__(self):
        return len(self.sentences)

    def __getitem__(self, i):
        return self.sentences[i], int(self.labels[i])
