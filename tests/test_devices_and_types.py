"""Devices, dalam.cuda/backends/accelerator, typed tensor classes, Tensor.type,
Size and the dalam.utils.data path, answered as a CPU-only PyTorch answers."""
import numpy as np
import pytest
import torch

import dalam
import dalam.nn as nn


def test_device_objects_match_torch():
    for spec in [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("mps",)]:
        d, t = dalam.device(*spec), torch.device(*spec)
        assert (str(d), d.type, d.index, repr(d)) == (str(t), t.type, t.index, repr(t))
    assert dalam.device("cpu") == dalam.device("cpu") != dalam.device("cuda")
    assert dalam.zeros(2).device == dalam.device("cpu") and dalam.zeros(2).device.type == "cpu"
    assert str(dalam.zeros(2).device) == str(torch.zeros(2).device)
    assert {dalam.device("cpu"): 1}[dalam.device("cpu")] == 1
    with pytest.raises(RuntimeError):
        dalam.device("gpu")
    x, t = dalam.zeros(2), torch.zeros(2)
    assert (x.is_cuda, x.is_cpu, x.get_device()) == (t.is_cuda, t.is_cpu, t.get_device())


def test_the_usual_device_idiom_picks_the_cpu():
    device = dalam.device("cuda" if dalam.cuda.is_available() else "cpu")
    m = nn.Linear(3, 2).to(device)
    x = dalam.randn(4, 3).to(device)
    assert m(x).shape == (4, 2) and x.device == device
    device = "mps" if dalam.backends.mps.is_available() else "cpu"
    assert dalam.ones(1, device=device).to(device, non_blocking=True).device.type == "cpu"


@pytest.mark.parametrize("call", [
    lambda L: L.zeros(2).to("cuda"), lambda L: L.zeros(2).to(device="cuda"),
    lambda L: L.zeros(2).to(L.device("cuda:0")), lambda L: L.zeros(2).cuda(),
    lambda L: L.zeros(2, device="cuda"), lambda L: L.tensor([1.0], device="cuda"),
    lambda L: L.zeros(2).to("cuda", L.float64), lambda L: L.nn.Linear(2, 2).cuda(),
    lambda L: L.nn.Linear(2, 2).to("cuda"), lambda L: L.ones_like(L.zeros(2), device="cuda"),
    lambda L: L.cuda.current_device(), lambda L: L.cuda.synchronize(),
    lambda L: L.cuda.get_device_name(0)])
def test_gpu_requests_raise_as_in_cpu_only_torch(call):
    with pytest.raises(AssertionError, match="CUDA"):
        call(torch)
    with pytest.raises(AssertionError, match="CPU-only backend"):
        call(dalam)
    with pytest.raises(RuntimeError, match="CPU-only backend"):  # also a RuntimeError
        call(dalam)


def test_mps_and_pin_memory_raise_runtime_errors_as_torch():
    for call in (lambda L: L.zeros(2).to("mps"), lambda L: L.zeros(2).pin_memory()):
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError, match="CPU-only"):
            call(dalam)
    assert dalam.zeros(2).is_pinned() is torch.zeros(2).is_pinned() is False


def test_cuda_backends_accelerator_answers_match_cpu_torch():
    for name in ["cuda.is_available", "cuda.device_count", "cuda.is_initialized",
                 "cuda.memory_allocated", "cuda.max_memory_allocated", "cuda.empty_cache",
                 "cuda.is_bf16_supported", "backends.mps.is_available", "backends.mps.is_built",
                 "backends.cudnn.is_available", "backends.cudnn.version", "backends.cuda.is_built",
                 "backends.mkldnn.is_available", "backends.openmp.is_available",
                 "accelerator.is_available", "accelerator.device_count",
                 "accelerator.current_accelerator", "get_default_device"]:
        fd, ft = dalam, torch
        for part in name.split("."):
            fd, ft = getattr(fd, part), getattr(ft, part)
        rd, rt = fd(), ft()
        assert str(rd) == str(rt), f"{name}: dalam {rd!r} vs torch {rt!r}"
    for flag in ["enabled", "benchmark", "deterministic", "allow_tf32"]:
        assert getattr(dalam.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag), flag
    assert dalam.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    dalam.cuda.manual_seed(0)
    dalam.cuda.manual_seed_all(0)
    import dalam.backends.cudnn as cudnn   # the import scripts write
    cudnn.benchmark = True
    assert dalam.backends.cudnn.benchmark is True
    cudnn.benchmark = False
    with pytest.raises(RuntimeError):
        dalam.accelerator.current_device_index()


def test_typed_tensor_classes_match_torch():
    cases = [("FloatTensor", (2, 3)), ("FloatTensor", ([1, 2],)), ("LongTensor", ([1.7, -2.2],)),
             ("DoubleTensor", ([1, 2],)), ("BoolTensor", ([1, 0],)), ("IntTensor", ([3, 4],)),
             ("ByteTensor", ([1, 255],)), ("FloatTensor", ()), ("Tensor", ([1, 2],)),
             ("Tensor", (3,)), ("Tensor", (np.array([1, 2]),))]
    for name, args in cases:
        d, t = getattr(dalam, name)(*args), getattr(torch, name)(*args)
        assert d.shape == tuple(t.shape), (name, args)
        assert d.dtype == t.numpy().dtype, (name, args)
        if name != "Tensor" or not isinstance(args[0], int):
            if args and not isinstance(args[0], int):
                np.testing.assert_array_equal(d.numpy(), t.numpy())
    assert dalam.FloatTensor(dalam.Size([2, 3])).shape == (2, 3)
    x = dalam.zeros(2)
    assert isinstance(x, dalam.FloatTensor) and not isinstance(x, dalam.LongTensor)
    assert isinstance(dalam.zeros(2, dtype=dalam.int64), dalam.LongTensor)
    # the legacy layer idiom: a Parameter over an uninitialised Tensor, then init
    w = nn.Parameter(dalam.Tensor(4, 3))
    nn.init.kaiming_uniform_(w, a=5 ** 0.5)
    assert w.shape == (4, 3) and w.requires_grad and w.dtype == np.float32
    with pytest.raises(TypeError):
        dalam.LongTensor(dalam.zeros(2))   # torch: expected Long (got Float)
    with pytest.raises(TypeError):
        dalam.Tensor(2.5)


def test_tensor_type_string_and_dtype_forms():
    x, t = dalam.zeros(2), torch.zeros(2)
    assert x.type() == t.type() == "torch.FloatTensor"
    for d, tt in [("torch.DoubleTensor", "torch.DoubleTensor"), (dalam.LongTensor, torch.LongTensor),
                  (dalam.float64, torch.float64), (dalam.int32, torch.int32)]:
        y, ty = x.type(d), t.type(tt)
        assert y.type() == ty.type()
    assert dalam.zeros(2, dtype=dalam.bool).type() == torch.zeros(2, dtype=torch.bool).type()
    assert nn.Linear(2, 2).type(dalam.DoubleTensor).weight.dtype == np.float64


def test_to_forms_match_torch():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x, t = dalam.tensor(a), torch.tensor(a)
    od, ot = dalam.tensor([1.0], dtype=dalam.float64), torch.tensor([1.0], dtype=torch.float64)
    forms = [((dalam.float32,), (torch.float32,), {}), (("cpu",), ("cpu",), {}),
             (("cpu", dalam.float64), ("cpu", torch.float64), {}), ((od,), (ot,), {}),
             ((), (), {"device": "cpu", "dtype": "int64"}),
             (("cpu",), ("cpu",), {"copy": True}), ((dalam.float32,), (torch.float32,), {"copy": True}),
             ((dalam.device("cpu"),), (torch.device("cpu"),), {"non_blocking": True}),
             (("cpu", dalam.float64, False, True), ("cpu", torch.float64, False, True), {})]
    for da, ta, kw in forms:
        tkw = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
        y, ty = x.to(*da, **kw), t.to(*ta, **tkw)
        assert (y is x) == (ty is t), (da, kw)
        assert y.dtype == ty.numpy().dtype
        assert np.shares_memory(y.numpy(), x.numpy()) == (ty.data_ptr() == t.data_ptr()), (da, kw)
    xg = dalam.tensor(a, requires_grad=True)
    y = xg.to(dalam.float64, copy=True)
    y.sum().backward()
    assert xg.grad.dtype == np.float32 and xg.grad.numpy().sum() == 6
    with pytest.raises(TypeError):
        x.to("cpu", bogus=1)


def test_size_behaves_as_torch_size():
    x, t = dalam.zeros(2, 3), torch.zeros(2, 3)
    s, ts = x.size(), t.size()
    assert s == ts == (2, 3) and s.numel() == ts.numel() == 6
    assert isinstance(s[1:], dalam.Size) and s[1:] == ts[1:]
    assert isinstance(s + (4,), dalam.Size) and list(s + (4,)) == list(ts + (4,))
    assert s[0] == 2 and isinstance(s[0], int)
    assert repr(s) == repr(ts).replace("torch", "dalam")
    assert x.view(dalam.Size([3, 2])).shape == (3, 2)
    assert dalam.zeros(dalam.Size([2, 2])).shape == (2, 2)


def test_utils_data_is_dalam_data():
    import dalam.utils.data as tud
    from dalam.utils.data import DataLoader, TensorDataset
    from dalam.utils.data.sampler import RandomSampler
    from dalam.utils.data.dataset import Dataset
    assert tud is dalam.data and dalam.utils.data is dalam.data
    assert DataLoader is dalam.data.DataLoader and RandomSampler is dalam.data.RandomSampler
    assert Dataset is dalam.data.Dataset
    ds = TensorDataset(dalam.arange(6.0).view(3, 2), dalam.arange(3))
    xb, yb = next(iter(DataLoader(ds, batch_size=3, pin_memory=True)))
    assert xb.shape == (3, 2) and yb.tolist() == [0, 1, 2]
