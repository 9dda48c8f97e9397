"""What ``dalam run`` maps, and what it refuses: the single source of truth.

``MODULES`` maps each PyTorch (and torchvision) module a script may import to the
dalam module that answers for it.  ``OVERRIDES`` are the few names whose
meaning differs under the hook (``torch.save`` writes PyTorch's own file
format).  ``REFUSED`` (modules: every name inside them is refused, so the error
names e.g. ``torch.fft.rfft``) and ``REFUSED_NAMES`` list well-known PyTorch
APIs dalam does not have, with the reason given in the error.  Any other missing name raises the same
:class:`~dalam.compat.errors.UnsupportedTorchAPI`.
docs/coming_from_pytorch.md carries :func:`markdown` verbatim (a test checks it).
"""

# torch name -> dalam module (imported lazily, when the script imports it)
MODULES = {
    "torch": "dalam",
    "torch.nn": "dalam.nn",
    "torch.nn.functional": "dalam.nn.functional",
    "torch.nn.init": "dalam.nn.init",
    "torch.nn.parameter": "dalam.nn.parameter",
    "torch.nn.modules": "dalam.nn",
    "torch.nn.utils": "dalam.nn.utils",
    "torch.nn.utils.rnn": "dalam.nn.utils.rnn",
    "torch.nn.utils.clip_grad": "dalam.nn.utils.clip_grad",
    "torch.nn.utils.parametrize": "dalam.nn.utils.parametrize",
    "torch.nn.utils.parametrizations": "dalam.nn.utils.parametrizations",
    "torch.nn.parallel": "dalam.nn.parallel",
    "torch.optim": "dalam.optim",
    "torch.optim.lr_scheduler": "dalam.optim.lr_scheduler",
    "torch.optim.optimizer": "dalam.optim.optimizer",
    "torch.utils": "dalam.compat.torch_utils",
    "torch.utils.data": "dalam.utils.data",
    "torch.utils.data.dataset": "dalam.data.dataset",
    "torch.utils.data.dataloader": "dalam.data.dataloader",
    "torch.utils.data.sampler": "dalam.data.sampler",
    "torch.autograd": "dalam.autograd",
    "torch.autograd.functional": "dalam.autograd.functional",
    "torch.distributions": "dalam.distributions",
    "torch.distributions.kl": "dalam.distributions.kl",
    "torch.distributions.constraints": "dalam.distributions.constraints",
    "torch.linalg": "dalam.linalg",
    "torch.func": "dalam.func",
    "torch.cuda": "dalam.cuda",
    "torch.amp": "dalam.amp",
    "torch.backends": "dalam.backends",
    "torch.backends.cudnn": "dalam.backends.cudnn",
    "torch.backends.mps": "dalam.backends.mps",
    "torch.backends.cuda": "dalam.backends.cuda",
    "torch.distributed": "dalam.distributed",
    "torchvision": "dalam.compat.vision",
    "torchvision.datasets": "dalam.compat.vision.datasets",
    "torchvision.transforms": "dalam.compat.vision.transforms",
    "torchvision.utils": "dalam.compat.vision.utils",
}

# names whose meaning under the hook differs from dalam's own (module, attribute) -> "module:attr"
OVERRIDES = {
    ("torch", "save"): "dalam.compat.serialization:save",
    ("torch", "load"): "dalam.compat.serialization:load",
    ("torch", "__version__"): "dalam.compat.serialization:TORCH_VERSION",
}

# well-known PyTorch APIs that dalam does not have, with the reason shown in the error
REFUSED = {
    "torch.fft": "no FFT ops in dalam",
    "torch.jit": "no TorchScript: models run eagerly, drop torch.jit.script/trace",
    "torch.sparse": "no sparse tensors",
    "torch.special": "use the functions in torch directly (erf, erfinv, logit, xlogy...)",
    "torch.hub": "no model hub downloads",
    "torch.onnx": "use dalam.onnx.export(model, x, path) outside dalam run",
    "torch.quantization": "no quantised tensors",
    "torch.ao": "no quantised tensors",
    "torch.fx": "no graph tracing",
    "torch.export": "no graph tracing",
    "torch.nested": "no nested tensors",
    "torch.masked": "no masked tensors",
    "torch.multiprocessing": "DataLoader(num_workers>0) uses a prefetch thread instead of processes",
    "torch.utils.checkpoint": "no activation checkpointing",
    "torch.utils.tensorboard": "use tensorboardX's SummaryWriter",
    "torch.utils.cpp_extension": "no C++ extensions",
    "torch.testing": "compare with numpy.testing on x.numpy()",
    "torch.profiler": "no profiler",
    "torchvision.models": "no torchvision model zoo (dalam.models has LeNet5, ResNet, VGG-style nets)",
    "torchvision.io": "no image/video decoding",
    "torchvision.ops": "no detection ops",
}

# dtypes dalam lacks: the names exist (scripts build dtype tables from them), using one raises
DTYPES = {
    "torch.bfloat16": "no bfloat16: float16, float32, float64 only",
    "torch.complex64": "no complex dtypes",
    "torch.complex128": "no complex dtypes",
    "torch.cfloat": "no complex dtypes",
    "torch.cdouble": "no complex dtypes",
}

# single names (not modules) refused with a reason
REFUSED_NAMES = {
    "torch.view_as_complex": "no complex dtypes",
    "torch.stft": "no FFT ops in dalam",
    "torch.nn.DataParallel": "one CPU process; use dalam launch / torch.nn.parallel.DistributedDataParallel",
}

# what each torchvision module offers under dalam run (the rest is refused)
TORCHVISION = {
    "torchvision.datasets": ["MNIST", "FashionMNIST"],
    "torchvision.transforms": ["Compose", "ToTensor", "Normalize", "Lambda", "Pad", "CenterCrop",
                               "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
                               "RandomAffine", "RandomRotation"],
    "torchvision.utils": ["make_grid", "save_image"],
}


def markdown():
    """The section of docs/coming_from_pytorch.md that lists these tables."""
    lines = ["| PyTorch module | answered by |", "|---|---|"]
    for t, d in MODULES.items():
        if t.startswith("torchvision"):
            names = TORCHVISION.get(t)
            d = ", ".join(f"`{n}`" for n in names) if names else f"`{d}`"
        else:
            d = f"`{d}`"
        lines.append(f"| `{t}` | {d} |")
    lines += ["", "| refused | why |", "|---|---|"]
    lines += [f"| `{t}` | {why} |" for t, why in {**REFUSED, **REFUSED_NAMES}.items()]
    lines += [f"| `{t}` (the name exists; making a tensor in it is refused) | {why} |"
              for t, why in DTYPES.items()]
    return "\n".join(lines)
