"""``dalam.device``: PyTorch's device objects, on a CPU-only backend.

``dalam.device("cuda")`` can be built (public code does so before checking
``cuda.is_available()``), but moving a tensor or module there raises the error
a CPU-only PyTorch build raises, naming dalam's NumPy backend.
"""

_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone", "ipu", "hpu")


class DeviceUnavailableError(RuntimeError, AssertionError):
    """Raised when code asks for a GPU: a RuntimeError (as PyTorch's 'not linked with
    support for mps' error) and an AssertionError (as its 'Torch not compiled with
    CUDA enabled')."""


class device:
    """A device name: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``.

    ``str(d)``, ``d.type`` and ``d.index`` are as in PyTorch; it compares equal to
    another device of the same name and to the string ``"cpu"`` (dalam's tensors
    answered ``x.device == "cpu"`` before devices were objects)."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise DeviceUnavailableError(
                f"device({type}): an integer device is a CUDA device; dalam is a CPU-only backend "
                "(NumPy), use device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {type.__class__.__name__}")
        name = type.strip()
        if ":" in name:
            if index is not None:
                raise RuntimeError(f"device(): type (string) must not include an index because "
                                   f"index was passed explicitly: {name}")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in _TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = name
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        if isinstance(other, str):
            try:
                return self == device(other)
            except (RuntimeError, TypeError):
                return False
        return NotImplemented

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):  # ``with torch.device("cpu"):`` is a no-op on a CPU-only backend
        check(self, "device")
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def unavailable(what, name):
    """The error for a GPU request; ``what`` names the call (e.g. ``to('cuda')``)."""
    kind = name.split(":")[0]
    if kind == "cuda":
        msg = "Torch not compiled with CUDA enabled"
    else:
        msg = f"PyTorch is not linked with support for {kind} devices"
    return DeviceUnavailableError(
        f"{what}: {msg}: dalam is a CPU-only backend (NumPy). Use the CPU ('cpu', or "
        "`device = 'cuda' if dalam.cuda.is_available() else 'cpu'`), or drop the .to(...)/.cuda() call.")


def check(dev, what):
    """Return the CPU device for ``dev`` (a string, device, or None), or raise for a GPU."""
    if dev is None:
        return CPU
    if isinstance(dev, device):
        d = dev
    elif isinstance(dev, str):
        d = device(dev)
    elif isinstance(dev, int) and not isinstance(dev, bool):
        raise unavailable(what, "cuda")
    else:
        raise TypeError(f"{what}: expected a device (string or dalam.device), got {type(dev).__name__}")
    if d.type not in ("cpu", "meta"):
        raise unavailable(what, str(d))
    if d.type == "meta":
        raise NotImplementedError(f"{what}: dalam has no 'meta' device (tensors always hold data)")
    return CPU


def is_device_like(a):
    if isinstance(a, device):
        return True
    if isinstance(a, str):
        return a.split(":")[0].strip() in _TYPES
    return False
