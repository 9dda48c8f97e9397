"""Rich views for notebooks: Tensor._repr_html_ and Module._repr_html_ (Jupyter calls them)."""
import dalam
import dalam.nn as nn


def test_tensor_html_shows_shape_dtype_grad_and_values():
    x = dalam.tensor([1.0, float("nan"), 3.0], requires_grad=True)
    (x * 2).sum().backward()
    h = x._repr_html_()
    assert "<table>" in h and "(3,)" in h and "float32" in h
    assert "norm 3.464" in h  # the gradient's norm
    assert "1 / 2 / 3" in h and "non-finite" in h  # statistics over the finite values
    assert "tensor([1., nan, 3.], requires_grad=True)" in h
    y = x * 2
    assert "MulBackward" in y._repr_html_() or "Mul" in y._repr_html_()
    assert "&lt;" in dalam.tensor([1])._repr_html_() or "<pre>" in dalam.tensor([1])._repr_html_()


def test_module_html_is_a_layer_table():
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    m[2].weight.requires_grad_(False)
    h = m._repr_html_()
    assert "58 parameters (42 trainable)" in h and "training mode" in h
    assert h.count("<tr>") == 1 + 4  # the header and one row per module
    assert "in_features=4, out_features=8, bias=True" in h and "weight (8, 4)" in h
    m.eval()
    assert "eval mode" in m._repr_html_()
