"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` and cells ``RNNCell``,
``LSTMCell``, ``GRUCell`` with PyTorch's arguments, return values, parameter
names/layouts (``weight_ih_l0``, ``bias_hh_l1_reverse``...) and init
(uniform in +-1/sqrt(hidden_size)), so weights move to and from PyTorch.

Each layer and direction is one fused op (dalam.ops.recurrent): one GEMM for
all input projections, one GEMM per step, a hand-written backward through
time.  PackedSequence input runs as a padded batch with a lengths mask."""
import math
import warnings

from .. import backend
from ..autograd import grad_mode
from ..backend import xp
from ..ops import recurrent as R
from ..ops._util import dtype_fix
from ..tensor import Tensor
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, pad_packed_sequence, _repack

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _uniform_param(shape, k, dtype):
    a = backend.rng().uniform(-k, k, shape).astype(dtype or backend.get_default_dtype())
    return Parameter(a)


def _dropout(x, p):
    """Inverted dropout between layers (training only)."""
    keep = (backend.rng().random(x.shape) >= p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
    return x * Tensor._make(keep, False, None)


class RNNBase(Module):
    """Shared machinery of RNN/LSTM/GRU: parameters, checks, layer loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        if proj_size:
            raise ValueError(f"{name}: proj_size is not supported in dalam (got {proj_size}); use 0")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not 0 <= float(dropout) <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, "
                          f"so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        k = 1.0 / math.sqrt(hidden_size)
        self._flat_weights_names = []
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
                shapes = [(G, in_size), (G, hidden_size)]
                if bias:
                    names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
                    shapes += [(G,), (G,)]
                for n, s in zip(names, shapes):
                    setattr(self, n, _uniform_param(s, k, dtype))
                self._flat_weights_names.extend(names)

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        with grad_mode.no_grad():
            for p in self.parameters():
                p._data[...] = backend.rng().uniform(-k, k, p.shape)

    def flatten_parameters(self):
        """No-op (PyTorch compacts cuDNN weights here)."""

    @property
    def all_weights(self):
        D = 2 if self.bidirectional else 1
        per = 4 if self.bias else 2
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i * per:(i + 1) * per] for i in range(self.num_layers * D)]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ checks
    def _name(self):
        return type(self).__name__

    def _check_input(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"{self._name()}: expected input of 2 (unbatched) or 3 dimensions, got "
                             f"shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{self._name()}: input has {x.shape[-1]} features per step but the "
                             f"layer expects input_size={self.input_size} (input shape "
                             f"{tuple(x.shape)}, batch_first={self.batch_first})")
        t_axis = 1 if (self.batch_first and x.ndim == 3) else 0
        if x.shape[t_axis] == 0:
            raise RuntimeError(f"{self._name()}: expected a sequence length larger than 0, got input of "
                               f"shape {tuple(x.shape)} (batch_first={self.batch_first})")
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            raise TypeError(f"{self._name()}: input dtype {x.dtype} does not match the weights' dtype "
                            f"{w.dtype}; {dtype_fix(x.dtype, w.dtype)}")

    def _check_hidden(self, h, B, batched, what="hx"):
        D = 2 if self.bidirectional else 1
        exp = (self.num_layers * D, B, self.hidden_size) if batched else \
            (self.num_layers * D, self.hidden_size)
        if not isinstance(h, Tensor):
            raise TypeError(f"{self._name()}: {what} must be a Tensor, got {type(h).__name__}")
        if tuple(h.shape) != exp:
            raise RuntimeError(f"{self._name()}: expected {what} of shape {exp} "
                               f"(num_layers*num_directions, batch, hidden_size), got "
                               f"{tuple(h.shape)}")
        if not batched:
            h = h.unsqueeze(1)
        return h

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        from ..ops.shape import cat, stack
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, ln = pad_packed_sequence(input)
            lengths = ln._data
            batched = True
        else:
            x = input
            self._check_input(x)
            batched = x.ndim == 3
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
        if packed:
            self._check_input(x)
        T, B = x.shape[0], x.shape[1]
        is_lstm = self.mode == "LSTM"
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                    raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0 = self._check_hidden(hx[0], B, batched, "h_0")
                c0 = self._check_hidden(hx[1], B, batched, "c_0")
            else:
                h0 = self._check_hidden(hx, B, batched)
        D = 2 if self.bidirectional else 1
        if B == 0:  # an empty batch: empty outputs, as PyTorch
            from ..ops._util import empty_result
            ps = [x] + list(self.parameters())
            out = empty_result((0, T, D * self.hidden_size) if self.batch_first else
                               (T, 0, D * self.hidden_size), x.dtype, *ps)
            h_n = empty_result((self.num_layers * D, 0, self.hidden_size), x.dtype, *ps)
            return (out, (h_n, empty_result(h_n.shape, x.dtype))) if is_lstm else (out, h_n)
        zeros = xp.zeros((B, self.hidden_size), x.dtype)
        hs, cs = [], []
        layer_in = x
        batch_out = False
        for layer in range(self.num_layers):
            # the last layer of a batch_first module writes batch-major storage
            bm = self.batch_first and batched and not packed and layer == self.num_layers - 1
            outs = []
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w_ih, w_hh = getattr(self, f"weight_ih{sfx}"), getattr(self, f"weight_hh{sfx}")
                b_ih = getattr(self, f"bias_ih{sfx}") if self.bias else None
                b_hh = getattr(self, f"bias_hh{sfx}") if self.bias else None
                k = layer * D + d
                h_init = h0[k] if h0 is not None else zeros
                if is_lstm:
                    c_init = c0[k] if c0 is not None else zeros
                    o, hn, cn = R.lstm_layer(layer_in, h_init, c_init, w_ih, w_hh, b_ih, b_hh,
                                             lengths=lengths, reverse=bool(d), batch_major=bm)
                    cs.append(cn)
                elif self.mode == "GRU":
                    o, hn = R.gru_layer(layer_in, h_init, w_ih, w_hh, b_ih, b_hh,
                                        lengths=lengths, reverse=bool(d), batch_major=bm)
                else:
                    o, hn = R.rnn_layer(layer_in, h_init, w_ih, w_hh, b_ih, b_hh, lengths=lengths,
                                        reverse=bool(d), batch_major=bm,
                                        nonlinearity="relu" if self.mode == "RNN_RELU" else "tanh")
                outs.append(o)
                hs.append(hn)
            if bm:
                outs = [o.transpose(0, 1) for o in outs]     # contiguous (B, T, H) each
                batch_out = True
                layer_in = outs[0] if D == 1 else cat(outs, -1)
                break
            layer_in = outs[0] if D == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = _dropout(layer_in, self.dropout)
        out = layer_in
        h_n = stack(hs, 0)
        c_n = stack(cs, 0) if is_lstm else None
        if packed:
            out = _repack(out, input)
        elif not batched:
            out = out.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first and not batch_out:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if is_lstm else (out, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n)). Gate order i, f, g, o."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gate order r, z, n with b_hn inside r * (W_hn h + b_hn)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


# ---------------------------------------------------------------------- cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        k = 1.0 / math.sqrt(hidden_size)
        G = num_chunks * hidden_size
        self.weight_ih = _uniform_param((G, input_size), k, dtype)
        self.weight_hh = _uniform_param((G, hidden_size), k, dtype)
        if bias:
            self.bias_ih = _uniform_param((G,), k, dtype)
            self.bias_hh = _uniform_param((G,), k, dtype)
        else:
            self.bias_ih = None
            self.bias_hh = None

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        with grad_mode.no_grad():
            for p in self.parameters():
                p._data[...] = backend.rng().uniform(-k, k, p.shape)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"  # unquoted, as PyTorch prints it
        return s

    def _prep(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input of 1 (unbatched) or 2 dimensions, got shape "
                             f"{tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features but the cell expects "
                             f"input_size={self.input_size} (input shape {tuple(input.shape)})")
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match the weights' dtype "
                            f"{self.weight_ih.dtype}; {dtype_fix(input.dtype, self.weight_ih.dtype)}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        B = x.shape[0]
        hs = hx if isinstance(hx, (tuple, list)) else (hx,)
        out = []
        for i, h in enumerate(hs):
            if h is None:
                out.append(xp.zeros((B, self.hidden_size), x.dtype))
                continue
            exp = (B, self.hidden_size) if batched else (self.hidden_size,)
            if tuple(h.shape) != exp:
                raise RuntimeError(f"{name}: expected hidden state {i} of shape {exp}, got "
                                   f"{tuple(h.shape)} (input shape {tuple(input.shape)})")
            out.append(h if batched else h.unsqueeze(0))
        return x, out, batched

    def _empty(self, x):
        """The new state for an empty batch: (0, hidden_size), as PyTorch."""
        from ..ops._util import empty_result
        return empty_result((0, self.hidden_size), x.dtype, x, *self.parameters())


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prep(input, hx)
        if x.shape[0] == 0:
            return self._empty(x)
        h1 = R.rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                        nonlinearity=self.nonlinearity)
        return h1 if batched else h1.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype=dtype)

    def forward(self, input, hx=None):
        x, hc, batched = self._prep(input, (None, None) if hx is None else hx)
        if x.shape[0] == 0:
            return self._empty(x), self._empty(x)
        if len(hc) != 2:
            raise TypeError("LSTMCell: hx must be a tuple (h, c)")
        h1, c1 = R.lstm_cell(x, hc[0], hc[1], self.weight_ih, self.weight_hh, self.bias_ih,
                             self.bias_hh)
        return (h1, c1) if batched else (h1.squeeze(0), c1.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prep(input, hx)
        if x.shape[0] == 0:
            return self._empty(x)
        h1 = R.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h1 if batched else h1.squeeze(0)
