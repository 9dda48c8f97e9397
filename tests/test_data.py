"""dalam.data: datasets, samplers, collate, DataLoader (fast path, shuffling,
prefetch determinism) and transforms (against hand computations and torch's
grid_sample)."""
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import dalam
from dalam.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                        RandomSampler, SequentialSampler, Subset, TensorDataset,
                        WeightedRandomSampler, default_collate, random_split)
from dalam.data import transforms as T
from dalam.data.transforms import inverse_affine_matrix, warp_affine


def _xy(n=50, d=3):
    x = dalam.tensor(np.arange(n * d, dtype=np.float32).reshape(n, d))
    y = dalam.tensor(np.arange(n, dtype=np.int64))
    return x, y


class Squares(Dataset):
    """A map-style dataset with per-item Python (no fast path)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full((2,), i, np.float32), i * i


# ---------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_errors():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 50
    a, b = ds[3]
    assert a.tolist() == [9.0, 10.0, 11.0] and b.item() == 3
    with pytest.raises(ValueError, match="size mismatch.*tensor 1 has 4"):
        TensorDataset(x, dalam.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_concat_and_random_split():
    x, y = _xy(10)
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, 2, 5])
    assert [int(sub[i][1]) for i in range(3)] == [7, 2, 5]
    cat = ConcatDataset([Squares(3), Squares(4)])
    assert len(cat) == 7 and cat[3][1] == 0 and cat[6][1] == 9 and cat[-1][1] == 9
    with pytest.raises(IndexError):
        cat[7]
    assert len(Squares(2) + Squares(5)) == 7

    parts = random_split(range(10), [3, 7], generator=dalam.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(range(10), [3, 7], generator=dalam.Generator().manual_seed(0))
    assert again[0].indices == parts[0].indices
    other = random_split(range(10), [3, 7], generator=dalam.Generator().manual_seed(1))
    assert other[0].indices != parts[0].indices
    # fractions: remainders go round-robin to the first parts (PyTorch's rule)
    fr = random_split(range(11), [0.5, 0.3, 0.2], generator=dalam.Generator().manual_seed(0))
    assert [len(p) for p in fr] == [6, 3, 2]
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(range(10), [3, 3])
    # global RNG when no generator: manual_seed fixes the split
    dalam.manual_seed(5)
    s1 = random_split(range(20), [10, 10])[0].indices
    dalam.manual_seed(5)
    assert random_split(range(20), [10, 10])[0].indices == s1


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = dalam.Generator().manual_seed(0)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    assert len(list(RandomSampler(range(5), replacement=True, num_samples=12, generator=g))) == 12
    assert list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    assert list(BatchSampler([4, 1, 3], 2, False)) == [[4, 1], [3]]  # any iterable works as a sampler
    w = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 4000, generator=dalam.Generator().manual_seed(0))
    counts = np.bincount(list(w), minlength=4)
    assert counts[0] == 0 and counts[2] == 0 and abs(counts[3] / 4000 - 0.75) < 0.03
    with pytest.raises(ValueError, match="positive integer"):
        BatchSampler(range(3), 0)


# ---------------------------------------------------------------- collate
def test_default_collate_structures():
    b = default_collate([(np.ones((2, 3), np.float32), 1, 0.5, "a"),
                         (np.zeros((2, 3), np.float32), 2, 1.5, "b")])
    assert isinstance(b, list) and b[0].shape == (2, 2, 3) and b[0].dtype == np.float32
    assert b[1].dtype == np.int64 and b[1].tolist() == [1, 2]
    assert b[2].dtype == np.float64 and b[3] == ["a", "b"]
    d = default_collate([{"x": dalam.ones(3), "y": np.int32(1)}, {"x": dalam.zeros(3), "y": np.int32(4)}])
    assert d["x"].shape == (2, 3) and d["y"].dtype == np.int32 and d["y"].tolist() == [1, 4]
    with pytest.raises(RuntimeError, match="different array shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


# ---------------------------------------------------------------- DataLoader
def test_loader_sequential_batches_drop_last_and_len():
    x, y = _xy(10)
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].dtype == np.float32 and batches[0][0].shape == (4, 3)
    dl = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    # the generic path (per-item + collate) gives the same batches as the fast path
    slow = DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=default_collate)
    for (a, b), (c, d) in zip(dl, slow):
        np.testing.assert_array_equal(a._data, c._data)
        np.testing.assert_array_equal(b._data, d._data)
    # no automatic batching
    assert [int(s[1]) for s in DataLoader(Squares(3), batch_size=None)] == [0, 1, 4]


def test_shuffle_seeded_generator_and_global_seed():
    x, y = _xy(50)
    ds = TensorDataset(x, y)

    def epoch(dl):
        return np.concatenate([b[1]._data for b in dl])

    g = dalam.Generator().manual_seed(42)
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=g)
    e1, e2 = epoch(dl), epoch(dl)
    assert sorted(e1.tolist()) == list(range(50)) and not np.array_equal(e1, e2)  # new order per epoch
    dl2 = DataLoader(ds, batch_size=8, shuffle=True, generator=dalam.Generator().manual_seed(42))
    np.testing.assert_array_equal(epoch(dl2), e1)
    np.testing.assert_array_equal(epoch(dl2), e2)
    # without a generator, dalam.manual_seed fixes the order
    dalam.manual_seed(3)
    a = epoch(DataLoader(ds, batch_size=8, shuffle=True))
    dalam.manual_seed(3)
    b = epoch(DataLoader(ds, batch_size=8, shuffle=True))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.arange(50))
    # generator state can be checkpointed and restored mid-run
    g = dalam.Generator().manual_seed(7)
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=g)
    epoch(dl)
    state = g.get_state()
    nxt = epoch(dl)
    g.set_state(state)
    np.testing.assert_array_equal(epoch(dl), nxt)


def test_loader_generic_dataset_and_errors():
    dl = DataLoader(Squares(5), batch_size=2, shuffle=True, generator=dalam.Generator().manual_seed(0))
    out = list(dl)
    assert len(out) == 3 and out[0][0].shape == (2, 2)
    assert sorted(np.concatenate([b[1]._data for b in out]).tolist()) == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(Squares(5), sampler=SequentialSampler(range(5)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(Squares(5), batch_sampler=[[0, 1]], batch_size=2)
    assert [b[1].tolist() for b in DataLoader(Squares(5), batch_sampler=[[4, 0], [2]])] == [[16, 0], [4]]


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield np.float32(i)

    def __len__(self):
        return self.n


def test_iterable_dataset_batches():
    out = [b.tolist() for b in DataLoader(Stream(7), batch_size=3)]
    assert out == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True, prefetch=True)] == out[:2]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_prefetch_same_batches_with_random_transforms():
    """The prefetch thread must not change order or content, even with random
    transforms and with the main thread drawing random numbers meanwhile."""
    imgs = (np.random.default_rng(0).random((40, 8, 8)) * 255).astype(np.uint8)

    class Imgs(Dataset):
        def __init__(self, tf):
            self.tf = tf

        def __len__(self):
            return len(imgs)

        def __getitem__(self, i):
            return self.tf(imgs[i]), i

    tf = T.Compose([T.ToTensor(), T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(),
                    T.RandomRotation(15, interpolation="bilinear")])

    def run(prefetch):
        dalam.manual_seed(11)
        dl = DataLoader(Imgs(tf), batch_size=6, shuffle=True, prefetch=prefetch)
        out = []
        for xb, yb in dl:
            dalam.randn(5)  # the model's own random draws (dropout) happen meanwhile
            time.sleep(0.001)
            out.append((xb._data.copy(), yb._data.copy()))
        return out

    a, b = run(False), run(True)
    assert len(a) == len(b) == 7
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(a[0][0][0], T.ToTensor()(imgs[a[0][1][0]])._data)  # really augmented


def test_prefetch_propagates_errors_and_stops_early():
    class Bad(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            if i == 5:
                raise KeyError("sample 5 is broken")
            return np.float32(i)

    dl = DataLoader(Bad(), batch_size=2, prefetch=True)
    got = []
    with pytest.raises(KeyError, match="sample 5 is broken"):
        for b in dl:
            got.append(b.tolist())
    assert got == [[0.0, 1.0], [2.0, 3.0]]
    x, y = _xy(1000)
    before = threading.active_count()
    it = iter(DataLoader(TensorDataset(x, y), batch_size=2, prefetch=True))
    next(it)
    it.close()  # a `break` out of the loop ends the generator the same way
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before


def test_fast_path_overhead_is_small():
    """Fetching a shuffled batch of 128 MNIST-sized rows must cost far less
    than a training step of the 784-512-512-10 MLP (the issue: < 5% of an
    epoch; measured in benchmarks/bench_data.py, here with a wide margin)."""
    n = 60000
    x = dalam.tensor(np.random.default_rng(0).random((n, 784), dtype=np.float32))
    y = dalam.tensor(np.random.default_rng(1).integers(0, 10, n))
    dl = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True,
                    generator=dalam.Generator().manual_seed(0))
    best = min(_timed(lambda: [None for _ in dl]) for _ in range(3)) / len(dl)
    w1 = np.random.default_rng(2).standard_normal((784, 512), dtype=np.float32)
    w2 = np.random.default_rng(3).standard_normal((512, 512), dtype=np.float32)
    xb = x._data[:128]

    def step():  # a lower bound of one training step: forward and backward GEMMs only
        h = xb @ w1
        h2 = h @ w2
        h2.T @ h
        h2 @ w2.T
        xb.T @ h
    step_t = min(_timed(step) for _ in range(20))
    assert best < 0.25 * step_t, f"loader {best * 1e6:.0f} us/batch vs GEMMs {step_t * 1e6:.0f} us/step"


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


# ---------------------------------------------------------------- transforms
def test_to_tensor_and_normalize():
    hwc = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    t = T.ToTensor()(hwc)
    assert isinstance(t, dalam.Tensor) and t.shape == (3, 5, 6) and t.dtype == np.float32
    np.testing.assert_allclose(t._data, hwc.transpose(2, 0, 1) / np.float32(255), rtol=0, atol=0)
    assert T.ToTensor()(hwc[..., 0]).shape == (1, 5, 6)
    batch = np.stack([hwc, hwc[::-1]])
    tb = T.ToTensor().batch(batch)
    assert tb.shape == (2, 3, 5, 6)
    np.testing.assert_array_equal(tb._data[1], T.ToTensor()(hwc[::-1])._data)
    n = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))(t)
    ref = (torch.from_numpy(t._data) - torch.tensor([0.5, 0.4, 0.3]).view(3, 1, 1)) / torch.tensor(
        [0.2, 0.25, 0.5]).view(3, 1, 1)
    np.testing.assert_allclose(n._data, ref.numpy(), rtol=1e-6, atol=1e-6)
    assert n.dtype == np.float32
    np.testing.assert_allclose(T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5)).batch(tb)._data[0], n._data,
                               rtol=1e-6, atol=1e-7)
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize(0.5, 0.5)(hwc.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(0.0, 0.0)
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0.1, 0.2), (1, 1))(t)


def test_random_crop_is_a_window_of_the_padded_image():
    img = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    windows = {padded[:, i:i + 6, j:j + 6].tobytes() for i in range(5) for j in range(5)}
    rc = T.RandomCrop(6, padding=2)
    seen = set()
    for _ in range(30):
        out = rc(img)
        assert out.shape == (2, 6, 6) and out.tobytes() in windows
        seen.add(out.tobytes())
    assert len(seen) > 5
    batch = np.stack([img, img + 100, img + 200])
    outb = rc.batch(batch)
    assert outb.shape == (3, 2, 6, 6)
    for k in range(3):
        pk = np.pad(batch[k], ((0, 0), (2, 2), (2, 2)))
        assert outb[k].tobytes() in {pk[:, i:i + 6, j:j + 6].tobytes() for i in range(5) for j in range(5)}
    assert T.RandomCrop(4)(img).shape == (2, 4, 4)
    assert T.RandomCrop(8, pad_if_needed=True)(img).shape == (2, 8, 8)
    with pytest.raises(ValueError, match="larger than the input image"):
        T.RandomCrop(8)(img)
    reflect = T.RandomCrop(6, padding=1, padding_mode="reflect")(img)
    assert reflect.shape == (2, 6, 6)


def test_flips():
    img = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[..., ::-1, :])
    batch = np.stack([img] * 200)
    out = T.RandomHorizontalFlip(p=0.5).batch(batch)
    flipped = np.array([np.array_equal(o, img[..., ::-1]) for o in out])
    kept = np.array([np.array_equal(o, img) for o in out])
    assert (flipped | kept).all() and 60 < flipped.sum() < 140


def _torch_warp(a, mats, mode):
    """Reference: torchvision's tensor affine = grid_sample over centred pixel coordinates."""
    n, c, h, w = a.shape
    yc, xc = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
    src_x = mats[:, 0, 0, None, None] * xc + mats[:, 0, 1, None, None] * yc + mats[:, 0, 2, None, None]
    src_y = mats[:, 1, 0, None, None] * xc + mats[:, 1, 1, None, None] * yc + mats[:, 1, 2, None, None]
    grid = np.stack([src_x / (0.5 * w), src_y / (0.5 * h)], -1)
    return F.grid_sample(torch.from_numpy(a).double(), torch.from_numpy(grid), mode=mode,
                         padding_mode="zeros", align_corners=False).numpy()


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_affine_warp_matches_torch_grid_sample(mode):
    rng = np.random.default_rng(0)
    a = rng.random((3, 2, 9, 11)).astype(np.float64)
    mats = np.stack([inverse_affine_matrix(30, (1, -2), 1.1, (5, 0)),
                     inverse_affine_matrix(-12.5, (0, 0), 0.9, (0, 7)),
                     inverse_affine_matrix(0.3, (0.5, 0.5), 1.0, (0, 0))])
    ours = warp_affine(a, mats, mode, fill=0.0)
    ref = _torch_warp(a, mats, mode)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)
    # float32 input stays float32
    assert warp_affine(a.astype(np.float32), mats, mode).dtype == np.float32


def test_rotation_by_90_and_affine_ranges():
    img = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(img)[0], np.rot90(img[0]))  # counter-clockwise
    np.testing.assert_array_equal(T.RandomAffine(0)(img), img)
    u8 = (np.random.default_rng(0).random((4, 28, 28)) * 255).astype(np.uint8)
    out = T.RandomAffine(20, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=10, interpolation="bilinear",
                         fill=0).batch(u8)
    assert out.dtype == np.uint8 and out.shape == u8.shape and not np.array_equal(out, u8)
    with pytest.raises(ValueError, match="expand=True is not supported"):
        T.RandomRotation(10, expand=True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomAffine(0, translate=(2, 0))


def test_transforms_seeded_by_dalam_rng_and_lambda():
    img = np.random.default_rng(0).random((1, 10, 10)).astype(np.float32)
    tf = T.Compose([T.RandomCrop(8, padding=1), T.RandomAffine(10), T.Lambda(lambda x: x * 2)])
    dalam.manual_seed(1)
    a = tf(img)
    dalam.manual_seed(1)
    np.testing.assert_array_equal(tf(img), a)
    # Lambda runs on one sample at a time (torchvision's contract): no batched form
    assert not T.is_batchable(tf) and not T.is_batchable(T.Compose([lambda x: x]))
    assert T.is_batchable(T.Compose([T.RandomCrop(8, padding=1), T.RandomAffine(10)]))
    t = dalam.tensor(img)
    assert isinstance(T.RandomHorizontalFlip(1.0)(t), dalam.Tensor)


def test_weighted_random_sampler_takes_numpy_lists_and_tensors():
    """Weights as a NumPy array (it has a .data attribute, a memoryview), a list or a Tensor."""
    import numpy as np
    import dalam
    from dalam.data import WeightedRandomSampler
    for w in (np.array([0.0, 1.0, 0.0]), [0.0, 1.0, 0.0], dalam.tensor([0.0, 1.0, 0.0])):
        assert list(WeightedRandomSampler(w, 4, generator=dalam.Generator().manual_seed(0))) == [1, 1, 1, 1]
