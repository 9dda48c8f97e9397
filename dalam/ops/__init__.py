"""All differentiable maths, one module per family; importing this package
attaches the Tensor methods."""
from . import elementwise, reduce, shape, index, activation, linalg  # noqa: F401
