"""``dalam.amp``: PyTorch's ``torch.amp`` names (autocast, GradScaler), full precision."""
from .._runtime import autocast, GradScaler  # noqa: F401
