"""``dalam.linalg``: PyTorch's ``torch.linalg`` names for the ops in
dalam/ops/linalg_extra.py (inv, det, slogdet, solve, norms, svdvals, cross)."""
from .ops.linalg import matmul
from .ops.linalg_extra import (inv, det, slogdet, solve, vector_norm, matrix_norm, svdvals,
                               linalg_norm as norm, linalg_cross as cross)

__all__ = ["inv", "det", "slogdet", "solve", "norm", "vector_norm", "matrix_norm", "svdvals",
           "cross", "matmul"]
