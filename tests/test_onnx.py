"""dalam.onnx: exported files run in onnxruntime and give dalam's outputs (1e-5);
MLP/CNN files import back into dalam."""
import numpy as np
import onnx  # the `onnx` extra (part of `dev`, installed by `make test`)
import onnxruntime as ort
import pytest

import dalam
import dalam.nn as nn
from dalam.models import LeNet5

TOL = dict(rtol=1e-5, atol=1e-5)


def _ort_run(path, x, input_name="input"):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {input_name: np.asarray(x)})


def _ref(model, x):
    model.eval()
    with dalam.no_grad():
        y = model(x)
    flat = []

    def walk(v):
        if isinstance(v, (tuple, list)):
            for u in v:
                walk(u)
        else:
            flat.append(v.numpy())
    walk(y)
    return flat


def _roundtrip(model, x, tmp_path, **kw):
    path = tmp_path / "model.onnx"
    dalam.onnx.export(model, x, path, **kw)
    got = _ort_run(path, x.numpy())
    want = _ref(model, x)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, **TOL)
    return path


def test_mlp_all_activations(tmp_path):
    dalam.manual_seed(0)
    acts = [nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.CELU(1.3), nn.SELU(),
            nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(), nn.Softplus(), nn.Softplus(beta=2.0),
            nn.Hardtanh(-0.5, 0.5), nn.ReLU6(), nn.Hardsigmoid(), nn.Hardswish(), nn.Softsign(),
            nn.LogSigmoid(), nn.PReLU(16), nn.Dropout(0.5), nn.Identity()]
    layers = [nn.Linear(8, 16)]
    for a in acts:
        layers += [a, nn.Linear(16, 16)]
    model = nn.Sequential(*layers, nn.Linear(16, 5), nn.LogSoftmax(dim=1))
    path = _roundtrip(model, dalam.randn(4, 8) * 2, tmp_path)
    names = {t.name for t in onnx.load(str(path)).graph.initializer}
    assert "0.weight" in names and "0.bias" in names  # weights keep their state_dict names


def test_model_mode_restored_and_softmax(tmp_path):
    model = nn.Sequential(nn.Linear(6, 3), nn.Dropout(0.3), nn.Softmax(dim=-1))
    model.train()
    _roundtrip(model, dalam.randn(2, 6), tmp_path)
    model.train()
    dalam.onnx.export(model, dalam.randn(2, 6), tmp_path / "again.onnx")
    assert model.training


def test_linear_on_3d_input(tmp_path):
    model = nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.Linear(7, 2, bias=False))
    _roundtrip(model, dalam.randn(2, 3, 5), tmp_path)


def test_lenet5(tmp_path):
    dalam.manual_seed(1)
    _roundtrip(LeNet5(), dalam.randn(2, 1, 28, 28), tmp_path)
    _roundtrip(LeNet5(activation="tanh", pool="avg", in_channels=3, input_size=32),
               dalam.randn(2, 3, 32, 32), tmp_path)


def _trained_bn(model, shape):
    model.train()
    with dalam.no_grad():
        for _ in range(3):
            model(dalam.randn(*shape) * 3 + 1)  # running statistics away from 0/1
    return model


def test_cnn_conv_pool_batchnorm(tmp_path):
    dalam.manual_seed(2)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding="same", groups=2, bias=False), nn.BatchNorm2d(8, affine=False),
        nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(8, 6, 3, stride=2, dilation=1),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(6, 10), nn.BatchNorm1d(10))
    _roundtrip(_trained_bn(model, (4, 3, 16, 16)), dalam.randn(2, 3, 16, 16), tmp_path)


def test_conv1d_transposed_adaptive(tmp_path):
    dalam.manual_seed(3)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool1d(4),
                          nn.Unflatten(1, (2, 2)), nn.Flatten(1, 2), nn.Unflatten(1, (4, 1)),
                          nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
                          nn.AdaptiveAvgPool2d((1, 4)), nn.Flatten(0, -1))
    _roundtrip(model, dalam.randn(2, 2, 8), tmp_path)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("num_layers,batch_first,bidirectional",
                         [(1, False, False), (2, True, False), (2, False, True), (3, True, True)])
def test_recurrent(tmp_path, cls, num_layers, batch_first, bidirectional):
    dalam.manual_seed(4)
    rnn = cls(5, 6, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    _roundtrip(rnn, dalam.randn(3, 4, 5), tmp_path)


def test_rnn_relu_no_bias_and_char_model(tmp_path):
    _roundtrip(nn.RNN(3, 4, nonlinearity="relu", bias=False), dalam.randn(5, 2, 3), tmp_path)
    # Embedding -> LSTM (batch_first): the LSTM's tuple output is (output, (h_n, c_n))
    emb = nn.Sequential(nn.Embedding(11, 4), nn.LSTM(4, 8, num_layers=2, batch_first=True))
    ids = dalam.randint(0, 11, (2, 7))
    path = tmp_path / "char.onnx"
    dalam.onnx.export(emb, ids, path)
    got = _ort_run(path, ids.numpy())
    for g, w in zip(got, _ref(emb, ids)):
        np.testing.assert_allclose(g, w, **TOL)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_model(tmp_path, cell):
    from dalam.models import CharRNN
    dalam.manual_seed(7)
    model = CharRNN(20, embed_dim=8, hidden_size=16, num_layers=2, cell=cell)
    ids = dalam.randint(0, 20, (2, 9))
    path = tmp_path / "char.onnx"
    dalam.onnx.export(model, ids, path)
    got = _ort_run(path, ids.numpy())
    want = _ref(model, ids)
    assert len(got) == (3 if cell == "lstm" else 2)  # logits, h_n (, c_n)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL)


@pytest.mark.parametrize("batch_first,norm_first,activation",
                         [(False, False, "relu"), (True, True, "gelu"), (True, False, "gelu"),
                          (False, True, "relu")])
def test_transformer_encoder(tmp_path, batch_first, norm_first, activation):
    dalam.manual_seed(5)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation,
                                       batch_first=batch_first, norm_first=norm_first)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16))
    _roundtrip(enc, dalam.randn(3, 5, 16), tmp_path)
    _roundtrip(layer, dalam.randn(3, 5, 16), tmp_path)


def test_dynamic_batch_axis(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    path = tmp_path / "dyn.onnx"
    dalam.onnx.export(model, dalam.randn(2, 1, 8, 8), path,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    x = dalam.randn(7, 1, 8, 8)
    np.testing.assert_allclose(_ort_run(path, x.numpy())[0], _ref(model, x)[0], **TOL)


def test_dynamic_axes_names_are_checked():
    with pytest.raises(ValueError, match=r"dynamic_axes names \['outptu'\]"):
        dalam.onnx.export(nn.Linear(2, 2), dalam.randn(1, 2), None, dynamic_axes={"outptu": {0: "b"}})


def test_input_output_names_and_return_value(tmp_path):
    proto = dalam.onnx.export(nn.LSTM(3, 4), dalam.randn(2, 1, 3), None, input_names=["tokens"],
                              output_names=["seq", "h", "c"])
    assert [o.name for o in proto.graph.output] == ["seq", "h", "c"]
    assert proto.graph.input[0].name == "tokens"
    assert [d.dim_value for d in proto.graph.output[1].type.tensor_type.shape.dim] == [1, 1, 4]


def test_unsupported_module_is_named(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.GroupNorm(2, 4)))
    with pytest.raises(TypeError, match=r"GroupNorm \(at 1.0\).*register_converter"):
        dalam.onnx.export(model, dalam.randn(2, 4), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_subclass_with_own_forward_is_refused(tmp_path):
    class Twice(nn.Sequential):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(TypeError, match="no ONNX converter for Twice"):
        dalam.onnx.export(Twice(nn.Linear(2, 2)), dalam.randn(1, 2), tmp_path / "t.onnx")


def test_register_custom_converter(tmp_path):
    class Scale(nn.Module):
        def forward(self, x):
            return x * 3.0

    @dalam.onnx.register_converter(Scale)
    def _scale(g, m, x, xv, path):
        return g.node("Mul", [x, g.const(np.asarray(3.0, np.float32), "three")]), m(xv)

    _roundtrip(nn.Sequential(nn.Linear(3, 3), Scale()), dalam.randn(2, 3), tmp_path)
    assert "Scale" in dalam.onnx.supported_modules()


def test_batchnorm_without_running_stats_refused(tmp_path):
    with pytest.raises(TypeError, match="track_running_stats=False"):
        dalam.onnx.export(nn.BatchNorm1d(3, track_running_stats=False), dalam.randn(4, 3), None)


def test_import_mlp_and_cnn(tmp_path):
    dalam.manual_seed(6)
    mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 16), nn.Tanh(),
                        nn.Linear(16, 4), nn.LogSoftmax(dim=1))
    cnn = _trained_bn(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                    nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.LeakyReLU(0.1),
                                    nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 2 * 2, 10)),
                      (4, 1, 12, 12))
    for model, x in ((mlp, dalam.randn(3, 8)), (cnn, dalam.randn(3, 1, 12, 12)), (LeNet5(), dalam.randn(2, 1, 28, 28))):
        path = _roundtrip(model, x, tmp_path)
        back = dalam.onnx.load(path)
        assert isinstance(back, nn.Sequential) and not back.training
        with dalam.no_grad():
            np.testing.assert_allclose(back(x).numpy(), _ref(model, x)[0], **TOL)
        # the imported model trains like any other
        back.train()
        loss = back(x).sum()
        loss.backward()
        assert all(p.grad is not None for p in back.parameters())


def test_import_non_chain_as_graph_module(tmp_path):
    path = tmp_path / "gelu.onnx"
    model = nn.Sequential(nn.Linear(3, 3), nn.GELU())
    dalam.onnx.export(model, dalam.randn(1, 3), path)
    with pytest.raises(TypeError, match="Div has no nn layer"):
        dalam.onnx.load(path, sequential=True)
    back = dalam.onnx.load(path)
    assert isinstance(back, dalam.onnx.GraphModule)
    x = dalam.randn(4, 3)
    np.testing.assert_allclose(back(x).detach().numpy(), _ref(model, x)[0], **TOL)


def _graph_models():
    from dalam.models import CharRNN
    dalam.manual_seed(8)
    layer = nn.TransformerEncoderLayer(16, 4, 32, activation="gelu", batch_first=True)
    return [
        ("lstm", nn.LSTM(5, 6, num_layers=2, batch_first=True, bidirectional=True), dalam.randn(3, 4, 5)),
        ("gru", nn.GRU(5, 6, num_layers=2), dalam.randn(4, 3, 5)),
        ("rnn_relu", nn.RNN(5, 6, nonlinearity="relu", bidirectional=True), dalam.randn(4, 3, 5)),
        ("transformer", nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16)), dalam.randn(2, 5, 16)),
        ("char_rnn", CharRNN(20, 8, 16, num_layers=2), dalam.randint(0, 20, (2, 7))),
        ("activations", nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.AdaptiveMaxPool1d(4), nn.Flatten(),
                                      nn.Linear(16, 6), nn.Hardswish(), nn.PReLU(), nn.SELU(), nn.Mish(),
                                      nn.Softplus(beta=2.0), nn.LogSigmoid(), nn.Hardsigmoid(), nn.ReLU6()),
         dalam.randn(2, 2, 8)),
    ]


@pytest.mark.parametrize("name,model,x", _graph_models(), ids=[m[0] for m in _graph_models()])
def test_import_graph_models_run_and_train(tmp_path, name, model, x):
    path = tmp_path / f"{name}.onnx"
    dalam.onnx.export(model, x, path)
    back = dalam.onnx.load(path)
    assert isinstance(back, dalam.onnx.GraphModule) and not back.training
    want = _ref(model, x)
    with dalam.no_grad():
        got = back(x)
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, **TOL)
    # gradients reach every imported weight
    out = back(x)
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    params = list(back.parameters())
    assert params and all(p.grad is not None for p in params)


def test_graph_module_erf_gradcheck():
    from dalam.onnx.graph_module import _Erf
    x = dalam.tensor(np.linspace(-3, 3, 13), dtype=dalam.float64, requires_grad=True)
    assert dalam.autograd.gradcheck(lambda t: _Erf.apply(t), (x,))
    assert "LSTM" in dalam.onnx.supported_ops() and "Erf" in dalam.onnx.supported_ops()


def test_import_pytorch_exported_cnn(tmp_path):
    """A file written by torch.onnx.export (TorchScript exporter; it folds BatchNorm into the conv)
    loads into dalam and gives PyTorch's outputs."""
    import warnings
    import torch
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                             torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3, stride=2), torch.nn.Tanh(),
                             torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(6 * 3 * 3, 16),
                             torch.nn.LeakyReLU(0.1), torch.nn.Linear(16, 5), torch.nn.LogSoftmax(dim=1)).eval()
    x = torch.randn(3, 1, 28, 28)
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(tm, (x,), str(path), dynamo=False, input_names=["input"], output_names=["output"])
    model = dalam.onnx.load(path)
    with dalam.no_grad(), torch.no_grad():
        np.testing.assert_allclose(model(dalam.tensor(x.numpy())).numpy(), tm(x).numpy(), rtol=1e-5, atol=1e-5)
