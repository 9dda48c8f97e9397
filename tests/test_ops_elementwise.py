"""Elementwise ops from the op table: PyTorch parity (float32, float64) and gradcheck."""
import numpy as np
import pytest

from op_table import cases, run_torch_parity, run_gradcheck

FAM = "elementwise"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", cases(FAM))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", cases(FAM, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)
