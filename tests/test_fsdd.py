"""dalam.datasets.FSDD on the real recordings: the official and held-out-speaker
splits, items, variable-length batching through the DataLoader, and the
download path (a local HTTP server serving a release-style archive; a tampered
archive is refused)."""
import io
import pathlib
import tarfile

import numpy as np
import pytest

import dalam
from dalam.datasets import FSDD
from dalam.datasets import fsdd as fsdd_mod
from dalam.audio.batching import pad_batch, pad_collate


def test_official_split(data_dir):
    tr, te = FSDD(data_dir, "train"), FSDD(data_dir, "test")
    assert len(tr) == 2700 and len(te) == 300
    assert {f[3] for f in te.files} == set(range(5)) and min(f[3] for f in tr.files) == 5
    assert np.bincount(te.digits).tolist() == [30] * 10
    w, sr, digit, speaker = te[0]
    assert isinstance(w, dalam.Tensor) and w.dtype == np.float32 and w.dim() == 1
    assert sr == 8000 and digit == 0 and speaker == "george"
    assert 0 < np.abs(w.numpy()).max() <= 1.0


def test_holdout_speaker_split(data_dir):
    tr, te = FSDD(data_dir, "train", holdout_speaker="theo"), FSDD(data_dir, "test", holdout_speaker="theo")
    assert len(tr) == 2500 and len(te) == 500
    assert set(te.speakers) == {"theo"} and "theo" not in set(tr.speakers)
    with pytest.raises(ValueError, match="holdout_speaker must be one of george"):
        FSDD(data_dir, holdout_speaker="alice")
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        FSDD(data_dir, split="valid")


def test_padded_batches_in_the_dataloader(data_dir):
    ds = FSDD(data_dir, "test")
    loader = dalam.data.DataLoader(ds, batch_size=8, shuffle=True, collate_fn=FSDD.collate,
                                   generator=dalam.Generator().manual_seed(0))
    x, lengths, sr, digits, speakers = next(iter(loader))
    assert x.shape[0] == 8 and lengths.shape == (8,) and x.shape[1] == lengths.numpy().max()
    assert digits.dtype == np.int64 and len(speakers) == 8 and sr.numpy().tolist() == [8000] * 8
    for k in range(8):                        # padding is zeros after each true length
        assert (x.numpy()[k, lengths.numpy()[k]:] == 0).all()
    p, l = pad_batch([np.ones((2, 3)), np.ones((2, 5))])
    assert p.shape == (2, 2, 5) and l.tolist() == [3, 5]
    with pytest.raises(ValueError, match="differ in more than their last"):
        pad_collate([(np.ones((2, 3)), 1), (np.ones((3, 3)), 2)])


def _archive(rec_dir, names, tamper=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for i, n in enumerate(names):
            data = (rec_dir / n).read_bytes()
            if tamper and i == 0:
                data = data[:-2] + b"\x00\x01"
            info = tarfile.TarInfo(f"free-spoken-digit-dataset-1.0.10/recordings/{n}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_download_from_a_local_server(data_dir, server, tmp_path, monkeypatch):
    url_for, www = server
    rec_dir = pathlib.Path(data_dir) / "fsdd" / "recordings"
    names = sorted(p.name for p in rec_dir.glob("*.wav"))
    (www / "rel").mkdir()
    (www / "rel" / "v.tar.gz").write_bytes(_archive(rec_dir, names, tamper=True))
    monkeypatch.setattr(fsdd_mod, "URL", url_for("rel") + "v.tar.gz")
    monkeypatch.setattr(fsdd_mod, "search_dirs", lambda root=None: [pathlib.Path(root)])
    with pytest.raises(RuntimeError, match="do not match the manifest"):
        FSDD(tmp_path / "cache", "test")
    assert not (tmp_path / "cache" / "fsdd" / "recordings").exists()
    (www / "rel" / "v.tar.gz").write_bytes(_archive(rec_dir, names))
    ds = FSDD(tmp_path / "cache", "test")
    assert len(ds) == 300 and (tmp_path / "cache" / "fsdd" / "recordings").is_dir()
    assert np.array_equal(ds[7][0].numpy(), FSDD(data_dir, "test")[7][0].numpy())


def test_missing_or_corrupt_files(tmp_path, monkeypatch):
    monkeypatch.setattr(fsdd_mod, "search_dirs", lambda root=None: [pathlib.Path(root)])
    with pytest.raises(FileNotFoundError, match="no fsdd/recordings folder"):
        FSDD(tmp_path, download=False)
    rec = tmp_path / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    (rec / "0_george_0.wav").write_bytes(b"RIFF1234WAVEjunk")
    with pytest.raises(RuntimeError, match="holds 1 recordings, expected 3000"):
        FSDD(tmp_path)
    with pytest.raises(ValueError, match="0_george_0.wav: not a valid WAV file"):
        fsdd_mod.read_wav(rec / "0_george_0.wav")
