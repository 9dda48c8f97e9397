"""dalam.viz: autograd graph drawing (DOT, SVG/PNG through Graphviz) and gradient flow."""
import re
import shutil

import numpy as np
import pytest

import dalam
import dalam.nn as nn
from dalam.viz import draw_graph, gradient_flow, plot_gradient_flow

HAVE_DOT = shutil.which("dot") is not None


def _mlp_loss():
    dalam.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = dalam.randn(5, 3)
    return m, ((m(x) - 1) ** 2).mean()


def _nodes(dot):
    return dict(re.findall(r'^\s+(\w+) \[.*label="([^"]*)"\];$', dot, re.M))


def test_dot_has_ops_shapes_dtypes_and_named_parameters():
    m, loss = _mlp_loss()
    dot = draw_graph(loss, params=m)
    labels = list(_nodes(dot).values())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for text in ("Mean\\n() float32", "Tanh\\n(5, 4) float32", "Linear\\n(5, 1) float32",
                 "0.weight\\n(4, 3) float32", "2.bias\\n(1,) float32", "output\\n() float32"):
        assert text in labels, text
    # every parameter appears once; edges point from producer to consumer
    assert sum(lab.startswith(("0.", "2.")) for lab in labels) == 4
    ids = {v: k for k, v in _nodes(dot).items()}
    tanh, linear = ids["Tanh\\n(5, 4) float32"], ids["Linear\\n(5, 1) float32"]
    assert f"{tanh} -> {linear};" in dot


def test_params_as_dict_unnamed_leaves_and_multi_output():
    a = dalam.randn(2, 6, requires_grad=True)
    b = dalam.randn(6, dtype=dalam.float64, requires_grad=True)
    parts = a.chunk(2, dim=1)
    y = (parts[0] * parts[1]).sum() + b.sum()
    dot = draw_graph(y, params={"a": a})
    labels = _nodes(dot).values()
    assert "a\\n(2, 6) float32" in labels
    assert "(6,) float64" in labels  # unnamed leaf: shape and dtype
    assert "out 1" in dot  # the two outputs of the split are told apart
    assert "float64" not in draw_graph(y, show_dtype=False)


def test_leaf_and_deep_chain_are_iterative():
    x = dalam.randn(3, requires_grad=True)
    assert "(3,) float32" in draw_graph(x)
    y = x
    for _ in range(3000):  # deeper than the recursion limit
        y = y * 1.0
    dot = draw_graph(y)
    assert dot.count("Mul") == 3000


def test_graph_kept_by_retain_graph_can_be_drawn():
    m, loss = _mlp_loss()
    before = draw_graph(loss, m)
    loss.backward(retain_graph=True)
    assert draw_graph(loss, m) == before


def test_freed_graph_and_bad_input_errors():
    m, loss = _mlp_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        draw_graph(loss)
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))


def test_write_dot_file(tmp_path):
    m, loss = _mlp_loss()
    text = draw_graph(loss, m, path=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == text


def test_without_graphviz_matplotlib_draws_the_graph(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    m, loss = _mlp_loss()
    draw_graph(loss, m, path=tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    draw_graph(loss, m, path=tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "0.weight" in svg  # the parameters by name, as in the DOT picture
    # neither Graphviz nor matplotlib: a clear error that says what to install
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(RuntimeError, match="Graphviz's 'dot' program was not found.*\\.dot"):
        draw_graph(loss, m, path=tmp_path / "h.svg")


# rendering needs the Graphviz binary: defined only where it is installed (no skip
# markers); without it, test_missing_graphviz_is_a_clear_error covers the behaviour
if HAVE_DOT:
    @pytest.mark.parametrize("fmt", ["svg", "png"])
    def test_render_with_graphviz(tmp_path, fmt):
        m, loss = _mlp_loss()
        out = tmp_path / f"g.{fmt}"
        draw_graph(loss, m, path=out)
        data = out.read_bytes()
        if fmt == "svg":
            assert b"<svg" in data and b"0.weight" in data
        else:
            assert data[:8] == b"\x89PNG\r\n\x1a\n"


def _deep_sigmoid(depth=8):
    dalam.manual_seed(1)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    loss = model(dalam.randn(32, 16)).pow(2).mean()
    loss.backward()
    return model


def test_gradient_flow_shows_vanishing_gradients():
    model = _deep_sigmoid()
    rows = gradient_flow(model)
    assert [r[0] for r in rows] == [n for n, p in model.named_parameters() if p.ndim == 2]
    for name, mean, mx in rows:
        p = dict(model.named_parameters())[name]
        g = np.abs(p.grad.numpy())
        assert mean == pytest.approx(float(g.mean()), rel=1e-6) and mx == pytest.approx(float(g.max()))
    # sigmoid's derivative <= 1/4 per layer: the first layer's gradient is orders smaller
    assert rows[0][1] < rows[-2][1] / 100
    assert len(gradient_flow(model, weights_only=False)) == 2 * len(rows)


def test_gradient_flow_needs_backward_and_plot(tmp_path):
    with pytest.raises(RuntimeError, match="call loss.backward"):
        gradient_flow(nn.Linear(2, 2))
    model = _deep_sigmoid(3)
    ax = plot_gradient_flow(model, path=tmp_path / "flow.png")
    assert (tmp_path / "flow.png").read_bytes()[:4] == b"\x89PNG"
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "0.weight"
