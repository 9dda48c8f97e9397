"""``dalam.linalg``: PyTorch's ``torch.linalg`` names for the ops in
dalam/ops/linalg_extra.py (inv, det, slogdet, solve, norms, svdvals, cross)
and dalam/ops/triangular.py (cholesky, solve_triangular)."""
from .ops.linalg import matmul
from .ops.linalg_extra import (inv, det, slogdet, solve, vector_norm, matrix_norm, svdvals,
                               linalg_norm as norm, linalg_cross as cross)
from .ops.triangular import cholesky, solve_triangular

__all__ = ["inv", "det", "slogdet", "solve", "norm", "vector_norm", "matrix_norm", "svdvals",
           "cross", "matmul", "cholesky", "solve_triangular"]
