"""Layer errors (issue 23): every layer names its path in the model (the
mechanism Linear uses, generalised in Module.__call__), PyTorch's argument
validation, empty batches through every layer as PyTorch (checked against
torch), and a dtype hint that works."""
import warnings

import numpy as np
import pytest

import dalam
import dalam.nn as nn

torch = pytest.importorskip("torch")


def _error(model, x):
    with pytest.raises(Exception) as e:
        model(x)
    return e


@pytest.mark.parametrize("layer,x,words", [
    (lambda: nn.Conv2d(3, 6, 3), dalam.randn(2, 4, 8, 8), ["Conv2d 'features.1'", "3 channels", "(2, 4, 8, 8)"]),
    (lambda: nn.LSTM(8, 4, batch_first=True), dalam.randn(2, 5, 7), ["LSTM 'features.1'", "input_size=8", "(2, 5, 7)"]),
    (lambda: nn.MultiheadAttention(8, 2, batch_first=True), None, ["MultiheadAttention 'features.1'"]),
    (lambda: nn.BatchNorm2d(3), dalam.randn(2, 4, 5, 5), ["BatchNorm2d 'features.1'", "(2, 4, 5, 5)"]),
    (lambda: nn.LayerNorm(6), dalam.randn(2, 5), ["LayerNorm 'features.1'", "(2, 5)"]),
    (lambda: nn.Embedding(5, 3), dalam.tensor([[1, 7]]), ["Embedding 'features.1'", "7"]),
    (lambda: nn.MaxPool2d(2), dalam.randn(3), ["MaxPool2d 'features.1'", "(3,)"]),
])
def test_every_layer_error_names_its_path(layer, x, words):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Identity(), layer())

        def forward(self, x):
            if isinstance(self.features[1], nn.MultiheadAttention):
                q = dalam.randn(2, 5, 8)
                return self.features[1](q, dalam.randn(2, 5, 6), dalam.randn(2, 5, 6))
            return self.features(x)
    e = _error(Net(), x)
    msg = str(e.value)
    for w in words:
        assert w in msg, (w, msg)


def test_error_keeps_its_type_and_top_level_message():
    with pytest.raises(ValueError, match=r"^LSTM: input has 7 features"):
        nn.LSTM(8, 4)(dalam.randn(5, 2, 7))  # no parent: the message as the layer wrote it
    with pytest.raises(IndexError, match="Embedding '0'"):
        nn.Sequential(nn.Embedding(3, 2))(dalam.tensor([5]))


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(3, 6, 0), lambda m: m.Conv1d(3, 6, 0), lambda m: m.Conv2d(3, 6, -1),
    lambda m: m.Conv2d(3, 6, 3, stride=0), lambda m: m.Conv2d(3, 6, 3, dilation=0),
    lambda m: m.Conv2d(3, 6, 3, padding=-1), lambda m: m.Conv2d(4, 6, 3, groups=3),
    lambda m: m.Conv2d(4, 6, 3, groups=0), lambda m: m.ConvTranspose2d(3, 6, 3, stride=0),
    lambda m: m.MaxPool2d(0), lambda m: m.MaxPool2d(2, stride=0), lambda m: m.MaxPool2d(2, padding=2),
    lambda m: m.AvgPool2d(0), lambda m: m.AvgPool1d(3, stride=0),
])
def test_argument_validation_as_pytorch(make):
    """PyTorch refuses these (at build or first call); dalam refuses them when built."""
    x = torch.randn(1, 4 if "groups" in str(make.__code__.co_consts) else 3, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((RuntimeError, ValueError)):
            m = make(torch.nn)
            m(x if not isinstance(m, (torch.nn.Conv1d, torch.nn.AvgPool1d)) else x[:, :, 0])
        with pytest.raises(ValueError) as e:
            make(nn)
    assert any(w in str(e.value) for w in ("kernel_size", "stride", "dilation", "padding", "groups"))


EMPTY = [
    ("Linear", lambda n: n.Linear(4, 3), (0, 4)),
    ("Conv1d", lambda n: n.Conv1d(2, 3, 3), (0, 2, 8)),
    ("Conv2d", lambda n: n.Conv2d(2, 3, 3, padding=1), (0, 2, 8, 8)),
    ("Conv2d groups", lambda n: n.Conv2d(4, 4, 3, groups=2), (0, 4, 8, 8)),
    ("ConvTranspose2d", lambda n: n.ConvTranspose2d(2, 3, 3, stride=2), (0, 2, 5, 5)),
    ("MaxPool2d", lambda n: n.MaxPool2d(2), (0, 2, 8, 8)),
    ("AvgPool1d", lambda n: n.AvgPool1d(2), (0, 2, 8)),
    ("AdaptiveAvgPool2d", lambda n: n.AdaptiveAvgPool2d(3), (0, 2, 8, 8)),
    ("AdaptiveMaxPool1d", lambda n: n.AdaptiveMaxPool1d(3), (0, 2, 8)),
    ("BatchNorm1d train", lambda n: n.BatchNorm1d(4), (0, 4)),
    ("BatchNorm2d train", lambda n: n.BatchNorm2d(2), (0, 2, 4, 4)),
    ("BatchNorm2d eval", lambda n: n.BatchNorm2d(2).eval(), (0, 2, 4, 4)),
    ("LayerNorm", lambda n: n.LayerNorm(4), (0, 4)),
    ("GroupNorm", lambda n: n.GroupNorm(2, 4), (0, 4, 3)),
    ("Dropout", lambda n: n.Dropout(0.5), (0, 4)),
    ("Softmax", lambda n: n.Softmax(dim=1), (0, 4)),
    ("PReLU", lambda n: n.PReLU(), (0, 4)),
    ("Flatten", lambda n: n.Flatten(), (0, 2, 3)),
    ("Embedding", lambda n: n.Embedding(5, 3), "ids"),
    ("LSTM batch_first", lambda n: n.LSTM(8, 4, batch_first=True), (0, 5, 8)),
    ("LSTM", lambda n: n.LSTM(8, 4, num_layers=2), (5, 0, 8)),
    ("GRU bidirectional", lambda n: n.GRU(8, 4, batch_first=True, bidirectional=True), (0, 5, 8)),
    ("RNN", lambda n: n.RNN(8, 4, batch_first=True), (0, 5, 8)),
    ("LSTM no steps", lambda n: n.LSTM(8, 4, batch_first=True), (2, 0, 8)),
    ("LSTMCell", lambda n: n.LSTMCell(8, 4), (0, 8)),
    ("GRUCell", lambda n: n.GRUCell(8, 4), (0, 8)),
    ("RNNCell", lambda n: n.RNNCell(8, 4), (0, 8)),
    ("MultiheadAttention", lambda n: n.MultiheadAttention(8, 2, batch_first=True), "attn"),
    ("TransformerEncoderLayer", lambda n: n.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0),
     (0, 5, 8)),
    ("Upsample", lambda n: n.Upsample(scale_factor=2), (0, 2, 4, 4)),
    ("PixelShuffle", lambda n: n.PixelShuffle(2), (0, 4, 3, 3)),
]


def _outcome(lib, nnmod, make, spec):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = make(nnmod)
            if spec == "ids":
                out = m(lib.zeros((0, 4), dtype=lib.int64))
            elif spec == "attn":
                q = lib.zeros((0, 5, 8))
                out = m(q, q, q)
            else:
                out = m(lib.zeros(spec))
        outs = out if isinstance(out, tuple) else (out,)
        flat = []
        for o in outs:
            flat.extend(o if isinstance(o, tuple) else (o,))
        return "ok", [tuple(o.shape) for o in flat if o is not None]
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        return "error", type(e).__name__


@pytest.mark.parametrize("name,make,spec", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_batch_as_pytorch(name, make, spec):
    t = _outcome(torch, torch.nn, make, spec)
    d = _outcome(dalam, nn, make, spec)
    assert d[0] == t[0], (name, t, d)
    if t[0] == "ok":
        assert d[1] == t[1], (name, t, d)


def test_empty_batch_backward_gives_zero_grads_as_pytorch():
    lstm = nn.LSTM(3, 2, batch_first=True)
    out, (h, c) = lstm(dalam.zeros(0, 4, 3))
    (out.sum() + h.sum()).backward()
    assert lstm.weight_ih_l0.grad is not None and float(lstm.weight_ih_l0.grad.abs().sum()) == 0
    bn = nn.BatchNorm1d(3)
    before = bn.running_mean.numpy().copy()
    bn(dalam.zeros(0, 3)).sum().backward()
    assert np.array_equal(bn.running_mean.numpy(), before) and float(bn.weight.grad.abs().sum()) == 0


@pytest.mark.parametrize("model,x", [
    (lambda: nn.Sequential(nn.Linear(4, 3)), dalam.arange(8).reshape(2, 4)),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3)), dalam.arange(25).reshape(1, 1, 5, 5)),
    (lambda: nn.LSTM(4, 3), dalam.arange(8).reshape(2, 1, 4)),
    (lambda: nn.LSTMCell(4, 3), dalam.arange(8).reshape(2, 4)),
])
def test_int_input_hint_suggests_something_that_works(model, x):
    m = model()
    with pytest.raises(Exception) as e:
        m(x)
    msg = str(e.value)
    assert "x.float()" in msg and "model.to(dalam.int64)" not in msg and ".to(int64)" not in msg
    m(x.float())  # the suggestion works


def test_layer_errors_pickle_with_their_message():
    """Worker processes and object collectives pickle exceptions."""
    import pickle
    with pytest.raises(ValueError) as e:
        nn.Sequential(nn.LSTM(8, 4))(dalam.randn(5, 2, 7))
    back = pickle.loads(pickle.dumps(e.value))
    assert isinstance(back, ValueError) and str(back) == str(e.value) and "LSTM '0'" in str(back)
