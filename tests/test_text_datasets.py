"""Text utilities (CharVocab, WordVocab, sampling) and the sequence datasets:
TinyShakespeare, SST2, MNIST1D."""
import numpy as np
import pytest

import dalam
from dalam.text import CharVocab, WordVocab, sample_logits, filter_logits


def test_char_vocab_round_trip_and_errors():
    v = CharVocab.from_text("hello world")
    assert len(v) == 8 and v.itos == sorted(set("hello world"))
    ids = v.encode("low")
    assert ids.dtype == np.int64
    assert v.decode(ids) == "low" and v.decode(dalam.tensor(ids)) == "low"
    assert CharVocab.from_json(v.to_json()).itos == v.itos
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        v.encode("z")


def test_word_vocab_padding_and_unknown():
    v = WordVocab.build(["a good film", "a bad film", "good"], min_freq=2)
    assert v.itos[:2] == ["<pad>", "<unk>"] and set(v.itos[2:]) == {"a", "good", "film"}
    x, ln = v.encode_batch(["good film", "a terrible film indeed"])
    assert x.shape == (2, 4) and ln.tolist() == [2, 4] and x[0, 2:].tolist() == [0, 0]
    assert x[1, 1] == v.UNK


def test_sampling_temperature_topk_topp():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    g = np.random.default_rng(0)
    assert sample_logits(logits, temperature=0) == 0
    assert np.all(sample_logits(np.tile(logits, (50, 1)), top_k=1, generator=g) == 0)
    s = sample_logits(np.tile(logits, (20000, 1)), generator=g)
    freq = np.bincount(s, minlength=4) / s.size
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    s2 = sample_logits(np.tile(logits, (5000, 1)), top_k=2, generator=g)
    assert set(np.unique(s2)) == {0, 1}
    np.testing.assert_allclose(np.mean(s2 == 0), 0.5 / 0.8, atol=0.03)
    # nucleus 0.7: keeps 0.5 and 0.3 (the first set whose mass reaches 0.7)
    z = filter_logits(logits, top_p=0.7)
    assert np.isfinite(z[:2]).all() and np.isinf(z[2:]).all()
    # low temperature sharpens
    cold = sample_logits(np.tile(logits, (5000, 1)), temperature=0.3, generator=g)
    assert np.mean(cold == 0) > 0.8


def test_tiny_shakespeare_split_and_batches(data_dir):
    from dalam.datasets.shakespeare import TinyShakespeare
    tr = TinyShakespeare(root=data_dir, split="train")
    va = TinyShakespeare(root=data_dir, split="val")
    assert len(tr.text_all) == 1115394 and tr.vocab_size == 65
    assert len(tr.data) == int(0.9 * 1115394) and len(tr.data) + len(va.data) == 1115394
    assert tr.text.startswith("First Citizen:\nBefore we proceed any further")
    assert va.vocab.itos == tr.vocab.itos
    x, y = tr.get_batch(4, 16, generator=np.random.default_rng(0))
    assert x.shape == (4, 16) and x.dtype == np.int64
    np.testing.assert_array_equal(x._data[:, 1:], y._data[:, :-1])
    w = TinyShakespeare(root=data_dir, split="val", block_size=64)
    a, b = w[0]
    assert len(w) == (len(va.data) - 1) // 64 and tr.vocab.decode(a)[1:] == tr.vocab.decode(b)[:-1]


def test_sst2_counts(data_dir):
    from dalam.datasets.sst2 import SST2
    tr, dev = SST2(root=data_dir, split="train"), SST2(root=data_dir, split="dev")
    assert len(tr) == 67349 and len(dev) == 872
    assert np.bincount(tr.labels).tolist() == [29780, 37569]
    assert np.bincount(dev.labels).tolist() == [428, 444]
    s, lab = dev[0]
    assert isinstance(s, str) and s == s.strip() and lab in (0, 1)
    with pytest.raises(ValueError, match="GLUE test has no labels"):
        SST2(root=data_dir, split="test")


def test_missing_data_gives_clear_error(tmp_path, monkeypatch):
    from dalam.datasets import _files
    from dalam.datasets.shakespeare import TinyShakespeare
    monkeypatch.setattr(_files, "search_dirs", lambda root=None: [tmp_path])
    with pytest.raises(FileNotFoundError, match="input.txt not found"):
        TinyShakespeare(root=tmp_path, download=False)


def test_mnist1d_matches_paper_description():
    from dalam.datasets.mnist1d import MNIST1D, templates, make_dataset
    tr, te = MNIST1D(train=True), MNIST1D(train=False)
    assert tr.data.shape == (4000, 40) and te.data.shape == (1000, 40)
    assert tr.data.dtype == np.float32 and tr.targets.dtype == np.int64
    allx = np.concatenate([tr.data, te.data])
    assert abs(allx.mean()) < 1e-4 and abs(allx.std() - 1) < 1e-3      # normalised
    counts = np.bincount(np.concatenate([tr.targets, te.targets]))
    assert counts.tolist() == [500] * 10                                 # 500 per class
    t = templates()
    assert t.shape == (10, 12) and np.all(t[:, 0] == 0)                  # start at 0
    d2 = make_dataset(seed=42)
    np.testing.assert_array_equal(d2["x"], tr.data)                      # deterministic
    d3 = make_dataset(seed=0, num_samples=100)
    assert d3["x"].shape == (80, 40) and not np.allclose(d3["x"][:5], tr.data[:5])
    x, y = tr[0]
    assert x.shape == (40,) and y == tr.targets[0]
    # classes differ on average (a class-mean template classifier is far above chance)
    means = np.stack([tr.data[tr.targets == c].mean(0) for c in range(10)])
    pred = np.argmin(((te.data[:, None, :] - means[None]) ** 2).sum(-1), 1)
    assert (pred == te.targets).mean() > 0.2


def test_text_dataset_download_from_local_server(data_dir, server, tmp_path, monkeypatch):
    """TinyShakespeare downloads through the same checked, atomic path as MNIST
    (a local HTTP server, never the internet); a wrong file is refused by MD5."""
    import pathlib
    import shutil
    from dalam.datasets import _files, shakespeare
    url_for, www = server
    (www / "ts").mkdir()
    shutil.copy(pathlib.Path(data_dir) / "tinyshakespeare" / "input.txt", www / "ts" / "input.txt")
    root = tmp_path / "cache"
    monkeypatch.setattr(_files, "search_dirs", lambda r=None: [root])
    monkeypatch.setattr(shakespeare, "URL", url_for("ts") + "input.txt")
    text = shakespeare.load_text()
    assert text == (www / "ts" / "input.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in (root / "tinyshakespeare").iterdir()) == ["input.txt"]
    (root / "tinyshakespeare" / "input.txt").unlink()
    (www / "ts" / "input.txt").write_text("not shakespeare")
    with pytest.raises(RuntimeError, match="expected MD5"):
        shakespeare.load_text()
    assert list((root / "tinyshakespeare").iterdir()) == []  # no partial file left behind
