"""Shape ops from the op table: PyTorch parity (float32, float64) and gradcheck."""
import numpy as np
import pytest
import torch

import dalam
from op_table import cases, run_torch_parity, run_gradcheck

FAM = "shape"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("op,shapes", cases(FAM))
def test_matches_torch(op, shapes, dtype):
    run_torch_parity(op, shapes, dtype)


@pytest.mark.parametrize("op,shapes", cases(FAM, with_grad_only=True))
def test_gradcheck(op, shapes):
    run_gradcheck(op, shapes)


def test_view_shares_memory_or_raises_like_torch():
    a = dalam.arange(6.0).reshape(2, 3)
    v = a.view(3, 2)
    v[0, 0] = 7.0
    assert a[0, 0].item() == 7.0
    with pytest.raises(RuntimeError, match="view: .*use .reshape"):
        a.T.view(6)
    with pytest.raises(RuntimeError):
        torch.arange(6.0).reshape(2, 3).T.view(6)
    assert a.T.reshape(6).tolist() == [7.0, 3.0, 1.0, 4.0, 2.0, 5.0]
