"""MovieLens100K: loading, the dataset's own splits rebuilt as mku.sh builds
them, leave-one-out, negative sampling, and corrupt-file errors.  The real data
comes from $DALAM_DATA (never from the repository: its licence forbids
redistribution); the loader's own tests write tiny synthetic files."""
import hashlib
import os
import pathlib

import numpy as np
import pytest

from dalam.datasets import MovieLens100K
from dalam.datasets import movielens as ml

# SHA-256 (first 24 hex) of the u{i}.base/.test texts we rebuild.  u1's were checked
# against copies of GroupLens' own u1.base/u1.test (the first 823,029 and 93,738
# characters of public copies match ours byte for byte); when the GroupLens zip is
# unpacked beside u.data, test_splits_equal_shipped_files compares every file whole.
SPLIT_SHA = {
    "u1": ("ce253ec86c448b44fb3ba9a3", "18c6014a4b2c7324f250a63f"),
    "u2": ("6c06f0b5df4b256da1a994f3", "4de658d1e04ed9104629509a"),
    "u3": ("afdc155c291c6edc41c0407e", "0f548b51c78327de4c156461"),
    "u4": ("219f0f4d40dfe9c5141d425f", "7c02ad0a1e7ab1083c8b9d4b"),
    "u5": ("a9574e59ce961eec21216277", "351cc52e0d15b6c721466276"),
    "ua": ("67b5bcdb380c29f85d56a012", "d0497e202417720f57a184ec"),
    "ub": ("237254d253b6ad7de84f919d", "d54a72d05730d5892062734b"),
}


@pytest.fixture(scope="module")
def ds():
    return MovieLens100K(root=os.environ.get("DALAM_DATA"))


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def test_counts_and_features(ds):
    assert (ds.num_users, ds.num_items, len(ds)) == (943, 1682, 100000)
    r = ds.ratings
    assert r.user.min() == 0 and r.user.max() == 942 and r.item.max() == 1681
    assert r.rating.dtype == np.float32 and abs(r.rating.mean() - 3.52986) < 1e-4
    assert ds.titles[0] == "Toy Story (1995)" and ds.year[0] == 1995
    assert ds.genres.shape == (1682, 19) and ds.genres[0, GENRE("Animation")] == 1
    assert ds.user_age[0] == 24 and ds.user_gender[0] == "M"
    assert ds.occupations[ds.user_occupation[0]] == "technician"
    assert ds.user_features().shape[0] == 943 and ds.item_features().shape == (1682, 20)


def GENRE(name):
    return ml.GENRES.index(name)


def test_standard_splits_rebuilt_as_mku_sh(ds):
    for name, (sb, st) in SPLIT_SHA.items():
        base, test = ds.split_text(name)
        assert (_sha(base), _sha(test)) == (sb, st), name
    tr, te = ds.split("u1")
    assert len(tr) == 80000 and len(te) == 20000
    # five folds partition the data
    tests = [ds.split(f"u{i}")[1] for i in range(1, 6)]
    pairs = np.concatenate([t.user * 2000 + t.item for t in tests])
    assert len(np.unique(pairs)) == 100000
    tr, te = ds.split("ua")
    assert len(te) == 9430 and np.all(np.bincount(te.user) == 10)


def test_splits_equal_shipped_files(ds):
    shipped = [n for n in SPLIT_SHA if (ds.folder / f"{n}.base").is_file()]
    for name in shipped:
        base, test = ds.split_text(name)
        assert (ds.folder / f"{name}.base").read_text("latin-1") == base
        assert (ds.folder / f"{name}.test").read_text("latin-1") == test


def test_leave_one_out_holds_latest_per_user(ds):
    tr, te = ds.leave_one_out()
    assert len(te) == 943 and len(tr) == 99057
    assert np.array_equal(te.user, np.arange(943))
    latest = np.zeros(943, np.int64)
    np.maximum.at(latest, tr.user, tr.timestamp)
    assert np.all(te.timestamp >= latest)


def test_negative_sampling_is_seeded_and_unseen(ds):
    tr, te = ds.leave_one_out()
    s = ml.NegativeSampler(tr, ds.num_users, ds.num_items, num_negatives=4, seed=3)
    u, i, y = s.epoch(0)
    assert len(u) == 5 * len(tr) and y.sum() == len(tr)
    seen = ds.seen(tr)
    assert not seen[u[y == 0], i[y == 0]].any() and seen[u[y == 1], i[y == 1]].all()
    u2, i2, _ = s.epoch(0)
    assert np.array_equal(i, i2) and not np.array_equal(i, s.epoch(1)[1])
    users, cand = ml.ncf_candidates(te, seen, 99, seed=0)
    assert cand.shape == (943, 100) and np.array_equal(cand[:, 0], te.item)
    allseen = ds.seen()
    assert not allseen[users[:, None], cand[:, 1:]].any()


# ---------------------------------------------------------------- synthetic files
def _write_tiny(folder, data="1\t1\t5\t10\n1\t2\t3\t20\n2\t1\t4\t30\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text(data)
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    flags = "|".join(["0"] * 19)
    (folder / "u.item").write_text(f"1|A (1995)|01-Jan-1995||url|{flags}\n"
                                   f"2|B (1996)|01-Jan-1996||url|{flags}\n")


def test_tiny_synthetic_files_load(tmp_path):
    _write_tiny(tmp_path / "ml-100k")
    d = MovieLens100K(root=tmp_path, download=False)
    assert (d.num_users, d.num_items, len(d)) == (2, 2, 3)
    tr, te = d.split("ua")
    assert len(te) == 3 and len(tr) == 0  # every rating is among its user's first 10
    tr, te = d.leave_one_out()
    assert te.item.tolist() == [1, 0]


@pytest.mark.parametrize("data,msg", [
    ("1\t1\t5\t10\n1\t2\t3", r"u\.data: line 2 has no line end: the file is cut short"),
    ("1\t1\t5\t10\n1\t2\tx\t20\n", r"u\.data: line 2 should be 'user<TAB>item<TAB>rating"),
    ("1\t1\t5\t10\n1\t2\t9\t20\n", r"u\.data: line 2 has .* rating 9; expected .* 1\.\.5"),
    ("1\t1\t5\t10\n7\t2\t3\t20\n", r"u\.data: line 2 has user id 7, but u\.user lists only 2"),
])
def test_corrupt_files_name_file_and_line(tmp_path, data, msg):
    _write_tiny(tmp_path / "ml-100k", data)
    with pytest.raises(ml.CorruptRatingsError, match=msg):
        MovieLens100K(root=tmp_path, download=False)


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("DALAM_DATA", raising=False)
    monkeypatch.setattr(ml._files, "search_dirs", lambda root=None: [pathlib.Path(tmp_path)])
    with pytest.raises(FileNotFoundError, match="u.data not found.*download=True"):
        MovieLens100K(root=tmp_path, download=False)


def test_download_checks_the_zip(tmp_path, monkeypatch):
    """The download goes through _fetch with GroupLens' MD5 (no network here)."""
    seen = {}

    def fake_fetch(urls, dest, md5):
        seen.update(urls=urls, dest=dest, md5=md5)
        raise RuntimeError("offline")
    monkeypatch.setattr("dalam.datasets._fetch.fetch", fake_fetch)
    monkeypatch.setattr(ml._files, "search_dirs", lambda root=None: [pathlib.Path(tmp_path)])
    with pytest.raises(RuntimeError, match="offline"):
        MovieLens100K(root=tmp_path)
    assert seen["md5"] == "0e33842e24a9c977be4e0107933c0723"
    assert seen["urls"] == [ml.URL] and seen["dest"].name == "ml-100k.zip"
