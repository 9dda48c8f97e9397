"""PyTorch's typed tensor classes: ``FloatTensor``, ``LongTensor``, ...

``dalam.FloatTensor(2, 3)`` makes a float32 tensor of that shape (zeros),
``dalam.LongTensor([1, 2])`` an int64 tensor of the data, and
``isinstance(x, dalam.FloatTensor)`` is True for any float32 Tensor, as in
PyTorch. ``x.type()`` names them ('torch.FloatTensor': the string programs
compare against); ``x.type('torch.DoubleTensor')`` converts.
"""
import numpy as np

_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
          "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
          "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype

    def __call__(cls, *args, **kwargs):
        from .tensor import Tensor
        kwargs.setdefault("dtype", cls.dtype)
        if kwargs["dtype"] != cls.dtype:
            raise TypeError(f"{cls.__name__}(): dtype is fixed to {cls.dtype}")
        return Tensor(*args, **kwargs)

    def __repr__(cls):
        return f"<class 'dalam.{cls.__name__}'>"


def _make(name, dtype):
    return _TypedTensorMeta(name, (), {"dtype": np.dtype(dtype), "__doc__":
                                        f"PyTorch's ``torch.{name}``: a {dtype} Tensor "
                                        "constructor (sizes or data) and isinstance check."})


FloatTensor = _make("FloatTensor", "float32")
DoubleTensor = _make("DoubleTensor", "float64")
HalfTensor = _make("HalfTensor", "float16")
LongTensor = _make("LongTensor", "int64")
IntTensor = _make("IntTensor", "int32")
ShortTensor = _make("ShortTensor", "int16")
CharTensor = _make("CharTensor", "int8")
ByteTensor = _make("ByteTensor", "uint8")
BoolTensor = _make("BoolTensor", "bool")

_BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                    ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def type_name(dtype):
    name = _NAMES.get(np.dtype(dtype).name)
    if name is None:
        raise TypeError(f"type(): no PyTorch tensor type name for dtype {dtype}")
    return "torch." + name


def dtype_of(t):
    """The dtype meant by a ``Tensor.type(...)`` argument."""
    if isinstance(t, _TypedTensorMeta):
        return t.dtype
    if isinstance(t, str):
        key = t.split(".")[-1]
        if t.startswith(("torch.cuda.", "dalam.cuda.")):
            from ._device import unavailable
            raise unavailable(f"type({t!r})", "cuda")
        if key in _BY_NAME and t.count(".") <= 1:
            return _BY_NAME[key].dtype
        try:
            return np.dtype(key)
        except TypeError:
            raise TypeError(f"type(): invalid type {t!r}; use e.g. 'torch.FloatTensor' or "
                            "dalam.float32") from None
    return np.dtype(t)
