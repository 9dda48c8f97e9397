"""MovieLens 100K (GroupLens): 100,000 ratings (1-5) by 943 users of 1,682
movies, with user features (age, gender, occupation, zip) and item features
(title, release date, 19 genre flags).

The data's licence forbids redistribution, so nothing of it ships with dalam:
the files are found under ``root``, ``$DALAM_DATA`` or ``~/.cache/dalam``
(folder ``movielens/ml-100k`` or ``ml-100k``), and otherwise GroupLens'
``ml-100k.zip`` is downloaded into the first of those and checked by MD5.

Ids: the files count users and items from 1; this loader gives 0-based
indices (``user = raw_id - 1``) so they index embedding tables directly.

Splits, as the field uses them:
  * ``split('u1')`` .. ``'u5'``: the dataset's own five folds, rebuilt exactly
    as its ``mku.sh`` makes them (fold i tests lines 20000*(i-1)+1 .. 20000*i
    of ``u.data``); ``'ua'``/``'ub'``: ``allbut.pl``'s 10 ratings per user (the
    1st-10th, or 11th-20th, rating of each user in file order);
  * ``leave_one_out()``: each user's latest rating (by timestamp) held out,
    the NCF protocol's split;
  * ``implicit`` views (``NegativeSampler``, ``ncf_candidates``): every
    rating is a positive, unrated items are sampled as negatives with a seed.
"""
import pathlib
import zipfile

import numpy as np

from . import _files

URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ZIP_MD5 = "0e33842e24a9c977be4e0107933c0723"
# the MD5 of each file inside GroupLens' zip (checked after extracting it)
MD5 = {"u.data": "6e47046882bad158b0efbb84cd5cb987", "u.item": "c9e7f390115d79079537301d5204f3f7",
       "u.user": "1b53539edc13caad0282c8500608a319"}
_DIRS = ("movielens/ml-100k", "ml-100k")
GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
          "Sci-Fi", "Thriller", "War", "Western")
AGE_BANDS = ((0, 18, "<18"), (18, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"),
             (45, 56, "45-55"), (56, 200, "56+"))
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


class CorruptRatingsError(ValueError):
    """A MovieLens file that is malformed or cut short; the message names the
    file and line."""


# ---------------------------------------------------------------------------- files
def find_folder(root=None, download=True):
    """The folder holding ``u.data``; downloads and extracts the zip if none."""
    p = _files.find([f"{d}/u.data" for d in _DIRS], root)
    if p is not None:
        return p.parent
    if not download:
        dirs = ", ".join(str(d) for d in _files.search_dirs(root))
        raise FileNotFoundError(f"MovieLens100K: u.data not found under {dirs} (looked in "
                                f"{', '.join(_DIRS)}); pass download=True to fetch {URL}")
    base = _files.search_dirs(root)[0] / "movielens"
    z = _files.download(URL, base / "ml-100k.zip", ZIP_MD5)
    with zipfile.ZipFile(z) as zf:
        for name in zf.namelist():
            if name.startswith("ml-100k/") and not name.endswith("/"):
                dest = base / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(zf.read(name))
    folder = base / "ml-100k"
    for name, md5 in MD5.items():
        got = _files.md5sum(folder / name)
        if got != md5:
            raise RuntimeError(f"MovieLens100K: {folder / name} has MD5 {got}, expected {md5}")
    return folder


def _lines(path):
    data = pathlib.Path(path).read_bytes()
    if data and not data.endswith(b"\n"):
        n = data.count(b"\n") + 1
        raise CorruptRatingsError(f"{path}: line {n} has no line end: the file is cut short "
                                  "(partial download?); delete it and download again")
    return data.decode("latin-1").split("\n")[:-1]


def read_ratings(path, with_lines=False):
    """``u.data``-format file (user, item, rating, timestamp; tab-separated)
    as an (N, 4) int64 array of raw values, in file order (and the text lines)."""
    lines = _lines(path)
    a = _parse_ratings(path, lines)
    return (a, lines) if with_lines else a


def _parse_ratings(path, lines):
    try:
        a = np.array(" ".join(lines).split(), dtype=np.int64)
        ok = a.size == 4 * len(lines)
    except ValueError:
        ok = False
    if not ok:
        for n, line in enumerate(lines, 1):
            f = line.split("\t")
            if len(f) != 4 or not all(x.strip().lstrip("-").isdigit() for x in f):
                raise CorruptRatingsError(
                    f"{path}: line {n} should be 'user<TAB>item<TAB>rating<TAB>timestamp' "
                    f"(4 integers), got {line[:80]!r}")
        raise CorruptRatingsError(f"{path}: could not be read as 4 integers per line")
    a = a.reshape(-1, 4)
    bad = np.flatnonzero((a[:, 2] < 1) | (a[:, 2] > 5) | (a[:, 0] < 1) | (a[:, 1] < 1))
    if bad.size:
        n = int(bad[0])
        raise CorruptRatingsError(f"{path}: line {n + 1} has user {a[n, 0]}, item {a[n, 1]}, rating "
                                  f"{a[n, 2]}; expected ids >= 1 and a rating in 1..5")
    return a


def read_users(path):
    """``u.user``: id | age | gender | occupation | zip."""
    rows = []
    for n, line in enumerate(_lines(path), 1):
        f = line.split("|")
        if len(f) != 5 or not f[0].isdigit() or not f[1].isdigit() or f[2] not in ("M", "F"):
            raise CorruptRatingsError(f"{path}: line {n} should be 'id|age|M or F|occupation|zip', "
                                      f"got {line[:80]!r}")
        if int(f[0]) != n:
            raise CorruptRatingsError(f"{path}: line {n} has user id {f[0]}, expected {n} "
                                      "(ids are consecutive from 1)")
        rows.append(f)
    return rows


def read_items(path):
    """``u.item``: id | title | release date | video date | URL | 19 genre flags."""
    rows = []
    for n, line in enumerate(_lines(path), 1):
        f = line.split("|")
        if len(f) != 5 + len(GENRES) or not f[0].isdigit() or any(g not in ("0", "1") for g in f[5:]):
            raise CorruptRatingsError(f"{path}: line {n} should have 24 '|'-separated fields (id, "
                                      f"title, dates, URL, 19 genre flags 0/1), got {len(f)}")
        if int(f[0]) != n:
            raise CorruptRatingsError(f"{path}: line {n} has item id {f[0]}, expected {n} "
                                      "(ids are consecutive from 1)")
        rows.append(f)
    return rows


# ---------------------------------------------------------------------------- splits
def _order(rows):
    """``sort -t"<TAB>" -k 1,1n -k 2,2n`` on unique (user, item) pairs."""
    return np.lexsort((rows[:, 1], rows[:, 0]))


def _sorted(rows):
    return rows[_order(rows)]


def mku_split(raw, name):
    """(base, test) raw rows of split ``name`` built as ``mku.sh`` builds them."""
    b, t = mku_split_index(raw, name)
    return raw[b], raw[t]


def mku_split_index(raw, name):
    """(base, test) row indices into ``raw`` (u.data order) of split ``name``,
    each in the order of the files ``mku.sh`` writes (sorted by user, item)."""
    if name not in SPLITS:
        raise ValueError(f"MovieLens100K: split must be one of {', '.join(SPLITS)}, got {name!r}")
    n = len(raw)
    if name[1] in "12345":
        i = int(name[1])
        if n != 100000:
            raise ValueError(f"MovieLens100K: split {name!r} needs the full 100,000 ratings, "
                             f"the file has {n}")
        test = np.zeros(n, bool)
        test[(i - 1) * 20000:i * 20000] = True
    else:  # allbut.pl: the start..stop-th rating of each user, in file order
        start, stop = (1, 10) if name == "ua" else (11, 20)
        order = np.argsort(raw[:, 0], kind="stable")
        u = raw[order, 0]
        first = np.searchsorted(u, u, side="left")
        count = np.empty(n, np.int64)
        count[order] = np.arange(n) - first + 1
        test = (count >= start) & (count <= stop)
    b, t = np.flatnonzero(~test), np.flatnonzero(test)
    return b[_order(raw[b])], t[_order(raw[t])]


class Ratings:
    """A set of ratings as 0-based ``user`` and ``item`` indices, ``rating``
    (float32) and ``timestamp``; item i is ``(user, item, rating)`` for a
    DataLoader."""

    def __init__(self, raw):
        raw = np.asarray(raw, np.int64).reshape(-1, 4)
        self.user = raw[:, 0] - 1
        self.item = raw[:, 1] - 1
        self.rating = raw[:, 2].astype(np.float32)
        self.timestamp = raw[:, 3]

    def __len__(self):
        return len(self.user)

    def __getitem__(self, i):
        return self.user[i], self.item[i], self.rating[i]

    def __repr__(self):
        return (f"Ratings({len(self)} ratings, {len(np.unique(self.user))} users, "
                f"{len(np.unique(self.item))} items)")

    def raw(self):
        return np.stack([self.user + 1, self.item + 1, self.rating.astype(np.int64),
                         self.timestamp], 1)


# ---------------------------------------------------------------------------- implicit views
def seen_matrix(ratings, num_users, num_items):
    """Boolean (num_users, num_items) matrix of the pairs present in ``ratings``."""
    m = np.zeros((num_users, num_items), bool)
    m[ratings.user, ratings.item] = True
    return m


def sample_unseen(seen, users, k, rng):
    """``k`` items per user in ``users`` that the user has not seen (drawn with
    replacement among unseen items, by rejection, which is fast at ML-100K's
    ~6% density).  Returns an (len(users), k) int64 array."""
    num_items = seen.shape[1]
    out = rng.integers(0, num_items, (len(users), k))
    bad = seen[users[:, None], out]
    while bad.any():
        r, c = np.nonzero(bad)
        out[r, c] = rng.integers(0, num_items, r.size)
        bad[r, c] = seen[users[r], out[r, c]]
    return out


class NegativeSampler:
    """Implicit-feedback training data: every (user, item) in ``ratings`` is a
    positive (label 1) and each gets ``num_negatives`` unrated items (label 0),
    freshly drawn per ``epoch(e)`` from a generator seeded by ``(seed, e)``, so
    a run is reproducible and each epoch sees new negatives (the NCF recipe)."""

    def __init__(self, ratings, num_users, num_items, num_negatives=4, seed=0, seen=None):
        self.pos_user = ratings.user
        self.pos_item = ratings.item
        self.num_negatives = num_negatives
        self.seed = seed
        self.seen = seen if seen is not None else seen_matrix(ratings, num_users, num_items)

    def epoch(self, e=0):
        """(user, item, label float32) arrays, shuffled."""
        rng = np.random.default_rng([self.seed, e])
        neg = sample_unseen(self.seen, self.pos_user, self.num_negatives, rng)
        users = np.concatenate([self.pos_user, np.repeat(self.pos_user, self.num_negatives)])
        items = np.concatenate([self.pos_item, neg.reshape(-1)])
        labels = np.concatenate([np.ones(len(self.pos_user), np.float32),
                                 np.zeros(neg.size, np.float32)])
        p = rng.permutation(len(users))
        return users[p], items[p], labels[p]


def ncf_candidates(test, seen, num_negatives=99, seed=0):
    """The NCF evaluation protocol: per test row, the held-out item in column 0
    followed by ``num_negatives`` items the user never rated (train or test),
    drawn with a seed.  Returns (users (N,), items (N, 1 + num_negatives))."""
    rng = np.random.default_rng(seed)
    seen = seen.copy()
    seen[test.user, test.item] = True
    negs = sample_unseen(seen, test.user, num_negatives, rng)
    return test.user.copy(), np.concatenate([test.item[:, None], negs], 1)


# ---------------------------------------------------------------------------- the dataset
class MovieLens100K:
    """``MovieLens100K(root=None, download=True)``: all 100,000 ratings
    (``ratings``, a :class:`Ratings` in ``u.data`` order) and the features.

    Users: ``user_age`` (int), ``user_gender`` ('M'/'F'), ``user_occupation``
    (index into ``occupations``), ``user_zip``, ``age_band`` (index into
    ``AGE_BANDS``).  Items: ``titles``, ``genres`` ((1682, 19) float32 flags,
    names in ``GENRES``), ``year`` (0 when unknown).  ``user_features()`` and
    ``item_features()`` give them as float32 matrices for hybrid models."""

    num_genres = len(GENRES)
    genre_names = GENRES

    def __init__(self, root=None, download=True):
        self.folder = find_folder(root, download)
        self._raw, self._lines = read_ratings(self.folder / "u.data", with_lines=True)
        users = read_users(self.folder / "u.user")
        items = read_items(self.folder / "u.item")
        self.num_users, self.num_items = len(users), len(items)
        for col, n, what in ((0, self.num_users, "user"), (1, self.num_items, "item")):
            big = np.flatnonzero(self._raw[:, col] > n)
            if big.size:
                k = int(big[0])
                raise CorruptRatingsError(
                    f"{self.folder / 'u.data'}: line {k + 1} has {what} id {self._raw[k, col]}, but "
                    f"u.{what} lists only {n} {what}s")
        self.ratings = Ratings(self._raw)
        self.user_age = np.array([int(f[1]) for f in users], np.int64)
        self.user_gender = np.array([f[2] for f in users])
        self.occupations = sorted({f[3] for f in users})
        self.user_occupation = np.array([self.occupations.index(f[3]) for f in users], np.int64)
        self.user_zip = [f[4] for f in users]
        self.age_band = np.zeros(self.num_users, np.int64)
        for b, (lo, hi, _) in enumerate(AGE_BANDS):
            self.age_band[(self.user_age >= lo) & (self.user_age < hi)] = b
        self.titles = [f[1] for f in items]
        self.release_date = [f[2] for f in items]
        self.year = np.array([int(f[2][-4:]) if len(f[2]) >= 4 and f[2][-4:].isdigit() else 0
                              for f in items], np.int64)
        self.genres = np.array([[int(g) for g in f[5:]] for f in items], np.float32)

    def __len__(self):
        return len(self.ratings)

    def __getitem__(self, i):
        return self.ratings[i]

    def __repr__(self):
        return (f"MovieLens100K({len(self)} ratings, {self.num_users} users, {self.num_items} "
                f"items, folder={str(self.folder)!r})")

    # ------------------------------------------------------------------ splits
    def split(self, name="u1"):
        """(train, test) :class:`Ratings` of a standard split: 'u1'..'u5'
        (five-fold), 'ua' or 'ub' (ten ratings per user), rows ordered as the
        mku.sh files (by user, then item)."""
        base, test = mku_split(self._raw, name)
        return Ratings(base), Ratings(test)

    def split_text(self, name="u1"):
        """(base, test) text of ``{name}.base`` / ``{name}.test`` byte for byte
        (mku.sh moves whole lines of u.data, so these are its lines, reordered)."""
        b, t = mku_split_index(self._raw, name)
        lines = self._lines
        return ("".join(lines[k] + "\n" for k in b.tolist()),
                "".join(lines[k] + "\n" for k in t.tolist()))

    def leave_one_out(self):
        """(train, test): each user's latest rating (largest timestamp; among
        equal timestamps the one later in ``u.data``) is the test row."""
        raw = self._raw
        order = np.lexsort((np.arange(len(raw)), raw[:, 3], raw[:, 0]))
        u = raw[order, 0]
        last = np.r_[u[1:] != u[:-1], True]
        test = np.zeros(len(raw), bool)
        test[order[last]] = True
        return Ratings(raw[~test]), Ratings(_sorted(raw[test]))

    def seen(self, ratings=None):
        """Boolean (users, items) matrix of rated pairs (of ``ratings`` or all)."""
        return seen_matrix(ratings if ratings is not None else self.ratings, self.num_users,
                           self.num_items)

    # ------------------------------------------------------------------ features
    def user_features(self):
        """(943, 30) float32: [age/100, gender M, gender F, occupation one-hot (21),
        age band one-hot (6)]."""
        occ = np.eye(len(self.occupations), dtype=np.float32)[self.user_occupation]
        band = np.eye(len(AGE_BANDS), dtype=np.float32)[self.age_band]
        g = np.stack([self.user_gender == "M", self.user_gender == "F"], 1).astype(np.float32)
        return np.concatenate([(self.user_age / 100.0).astype(np.float32)[:, None], g, occ, band], 1)

    def item_features(self):
        """(1682, 19 + 1) float32: genre flags and (year - 1900) / 100."""
        yr = np.where(self.year > 0, (self.year - 1900) / 100.0, 0.0).astype(np.float32)
        return np.concatenate([self.genres, yr[:, None]], 1)

    def primary_genre(self):
        """Per item, the index of its first listed genre (for plots)."""
        return np.argmax(self.genres, 1)
