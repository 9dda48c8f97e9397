"""``dalam.Size``: PyTorch's ``torch.Size``, a tuple of ints with ``numel()``."""


PREFIX = "dalam"  # "torch" under dalam run, so programs print torch.Size([...])


class Size(tuple):
    """A shape: a tuple (compares equal to one) with ``numel()``; slicing and
    ``+`` give a Size, as ``torch.Size`` does."""
    __slots__ = ()

    def __new__(cls, sizes=()):
        return tuple.__new__(cls, (int(s) for s in sizes))

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __repr__(self):
        return f"{PREFIX}.Size({list(self)})"

    __str__ = __repr__

    def __reduce__(self):
        return (Size, (tuple(self),))
