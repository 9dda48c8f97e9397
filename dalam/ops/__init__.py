"""All differentiable maths, one module per family; importing this package
attaches the Tensor methods."""
from . import elementwise, reduce, shape, index, activation, linalg  # noqa: F401
from . import math_extra, linalg_extra  # noqa: F401,E402
from . import sorting, structure  # noqa: F401,E402
from . import triangular  # noqa: F401,E402
from . import views  # noqa: F401,E402
from . import composite  # noqa: F401,E402
