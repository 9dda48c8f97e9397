"""The bridge between the page and dalam: one ``Playground`` holds a session's
data, model, optimiser and history, trains with dalam's own autograd and
optimisers, and turns the model's state into the pictures the page draws.

What the page shows is read from dalam, never recomputed on the side: the
gradients on the edges are the ``.grad`` that ``loss.backward()`` left, the
"look inside one step" gradients are autograd's (``retain_grad`` on every
layer), and the exported script trains the very same model the same way,
step for step."""
import base64
import copy
import math
import os
import tempfile
import threading

import numpy as np

from . import features as feats
from .data import DIGITS_SIDE, EXTENT, make_dataset

# dalam's random stream is global: sessions take turns through this lock and
# swap their own stream in and out, so every session is reproducible.
COMPUTE_LOCK = threading.RLock()

ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "linear": "Identity"}
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
HEAT_SIDE = 64        # decision-boundary heat map: 64 x 64 cells over the plane
NEURON_SIDE = 32      # each neuron's own picture: 32 x 32 (every other cell of the heat map) ...
SMALL_NEURON_SIDE = 16  # ... or 16 x 16 in big networks (more than 48 hidden neurons), to keep frames small
MAX_HISTORY = 200_000  # per-step losses kept for export and checks
N_SHOWN_DIGITS = 24

DEFAULT_CONFIG = {
    "dataset": "circles", "n_points": 400, "noise": 0.0, "train_ratio": 0.5, "seed": 1,
    "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh",
    "regularization": "none", "reg_rate": 0.0, "dropout": 0.0,
    "optimizer": "adam", "lr": 0.03, "batch_size": 10,
}


def _b64(u8):
    return base64.b64encode(np.ascontiguousarray(u8, dtype=np.uint8).tobytes()).decode("ascii")


def _to_u8(v):
    """Values -> bytes 0..255 with 127.5 meaning zero; scaled so |v| <= 1 maps
    to the full range and bigger values are shown relative to their maximum."""
    v = np.asarray(v, dtype=np.float64)
    m = float(np.max(np.abs(v))) if v.size else 0.0
    scale = max(1.0, m)
    return np.clip(np.round((v / scale + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _columns_to_u8(m):
    """Each column of ``m`` (one neuron's values) -> bytes as in _to_u8, all at once."""
    m = np.asarray(m, dtype=np.float32)
    scale = np.maximum(1.0, np.abs(m).max(axis=0))
    u8 = np.clip(np.round((m / scale + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(u8.T)


def _round(a, digits=5):
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


def _act_derivative(name, z, a):
    """f'(z) for the chain rule shown to the learner."""
    if name == "tanh":
        return 1.0 - a * a
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    if name == "linear":
        return 1.0
    # exact GELU: x * Phi(x)  ->  Phi(x) + x * phi(x)
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) + z * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def build_model(n_in, hidden, activation, dropout, n_out):
    """Linear -> activation (-> Dropout) for each hidden layer, then a Linear
    to the outputs (logits): a plain ``nn.Sequential``."""
    from .. import nn
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h), getattr(nn, ACTIVATIONS[activation])()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def make_optimizer(name, params, lr):
    from .. import optim
    if name == "sgd":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    return optim.Adam(params, lr=lr)


class Playground:
    """One learner's experiment.  ``config`` must already be validated
    (see protocol.validate_config)."""

    def __init__(self, config):
        import dalam
        from .. import nn
        self.config = cfg = dict(config)
        self.digits = cfg["dataset"] == "digits"
        self.X_train, self.y_train, self.X_test, self.y_test = make_dataset(
            cfg["dataset"], cfg["n_points"], cfg["noise"], cfg["train_ratio"], cfg["seed"])
        if self.digits:
            self.F_train, self.F_test = self.X_train, self.X_test
            self.n_in, self.n_out = DIGITS_SIDE * DIGITS_SIDE, 10
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            self.F_train = feats.compute(self.X_train, cfg["features"])
            self.F_test = feats.compute(self.X_test, cfg["features"])
            self.n_in, self.n_out = len(cfg["features"]), 1
            self.loss_fn = nn.BCEWithLogitsLoss()
        with COMPUTE_LOCK:
            saved = dalam.get_rng_state()
            dalam.manual_seed(cfg["seed"])
            self.model = build_model(self.n_in, cfg["hidden"], cfg["activation"], cfg["dropout"], self.n_out)
            self._rng_state = dalam.get_rng_state()
            dalam.set_rng_state(saved)
        self.optimizer = make_optimizer(cfg["optimizer"], self.model.parameters(), cfg["lr"])
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self._order = np.random.default_rng(cfg["seed"])
        self._perm, self._pos = None, 0
        self.step = 0
        self.step_losses = []
        self.curve = []          # (step, train loss, test loss)
        if not self.digits:
            g = np.linspace(-EXTENT, EXTENT, HEAT_SIDE, dtype=np.float32)
            gx, gy = np.meshgrid(g, g[::-1])             # row 0 is the top of the picture (y = +6)
            self._grid = np.stack([gx.ravel(), gy.ravel()], 1)
            self._grid_feats = feats.compute(self._grid, cfg["features"])
        self._shown = np.linspace(0, len(self.X_test) - 1, N_SHOWN_DIGITS).astype(int) if self.digits else None

    # ---- training -------------------------------------------------------------------------
    def _next_batch(self):
        n = len(self.F_train)
        if self._perm is None or self._pos >= n:
            self._perm, self._pos = self._order.permutation(n), 0
        idx = self._perm[self._pos:self._pos + self.config["batch_size"]]
        self._pos += len(idx)
        return idx

    def _targets(self, y):
        import dalam
        return dalam.tensor(y)

    def _data_loss(self, out, yt):
        return self.loss_fn(out, yt) if self.digits else self.loss_fn(out[:, 0], yt)

    def _penalty(self, model):
        kind, rate = self.config["regularization"], self.config["reg_rate"]
        if kind == "none" or rate == 0:
            return None
        weights = [m.weight for m in model if hasattr(m, "weight")]
        if kind == "l2":
            return rate * sum((w * w).sum() for w in weights)
        return rate * sum(w.abs().sum() for w in weights)

    def train_steps(self, n):
        """Run ``n`` optimiser steps (one mini-batch each); returns the last loss."""
        import dalam
        loss_value = None
        with COMPUTE_LOCK, np.errstate(over="ignore", invalid="ignore"):   # a blow-up is shown, not logged
            saved = dalam.get_rng_state()
            dalam.set_rng_state(self._rng_state)
            try:
                self.model.train()
                for _ in range(int(n)):
                    idx = self._next_batch()
                    out = self.model(dalam.tensor(self.F_train[idx]))
                    loss = self._data_loss(out, self._targets(self.y_train[idx]))
                    pen = self._penalty(self.model)
                    if pen is not None:
                        loss = loss + pen
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                    loss_value = float(loss.item())
                    self.step += 1
                    if len(self.step_losses) < MAX_HISTORY:
                        self.step_losses.append(loss_value)
            finally:
                self._rng_state = dalam.get_rng_state()
                dalam.set_rng_state(saved)
        return loss_value

    # ---- measuring --------------------------------------------------------------------------
    def _forward_record(self, F):
        """Forward ``F`` in eval mode, keeping every hidden neuron's output;
        returns (list of (n, width) hidden activations, (n, n_out) logits)."""
        import dalam
        from .. import nn
        hidden = []
        with dalam.no_grad():
            self.model.eval()
            h = dalam.tensor(F)
            mods = list(self.model)
            for i, m in enumerate(mods):
                h = m(h)
                if not isinstance(m, (nn.Linear, nn.Dropout)) and i + 1 < len(mods):
                    hidden.append(h.detach().numpy().copy())
            self.model.train()
        return hidden, h.detach().numpy().copy()

    def _scores(self, F, y):
        with COMPUTE_LOCK:
            _, logits = self._forward_record(F)
        if self.digits:
            z = logits - logits.max(1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(1, keepdims=True))
            loss = float(-logp[np.arange(len(y)), y].mean())
            pred = logits.argmax(1)
            return loss, float((pred == y).mean()), logits
        z = logits[:, 0].astype(np.float64)
        loss = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
        return loss, float(((z > 0) == (y > 0.5)).mean()), logits

    def evaluate(self):
        """Loss and accuracy on the whole train and test sets (no dropout, no penalty)."""
        tr_loss, tr_acc, _ = self._scores(self.F_train, self.y_train)
        te_loss, te_acc, te_logits = self._scores(self.F_test, self.y_test)
        return {"train_loss": tr_loss, "test_loss": te_loss, "train_acc": tr_acc, "test_acc": te_acc,
                "_test_logits": te_logits}

    def _edges(self, attr):
        out = []
        for k, lin in enumerate(self.linears):
            t = getattr(lin.weight, attr) if attr == "grad" else lin.weight
            if self.digits and k == 0:
                out.append(None)        # 196 x width: drawn as pictures, not as edges
            elif t is None:
                out.append(None)
            else:
                out.append(_round(t.detach().numpy(), 5))
        return out

    def grad_norms(self):
        """Size of the last mini-batch's gradient per layer (RMS of dL/dW)."""
        out = []
        for lin in self.linears:
            g = lin.weight.grad
            out.append(None if g is None else float(np.sqrt(np.mean(g.detach().numpy().astype(np.float64) ** 2))))
        return out

    def frame(self):
        """Everything the page draws for the current state of the model.
        ``diverged`` is true once the loss is no longer a finite number."""
        with np.errstate(over="ignore", invalid="ignore"):
            fr = self._frame()
        fr["diverged"] = not math.isfinite(fr["train_loss"])
        return fr

    def _frame(self):
        ev = self.evaluate()
        te_logits = ev.pop("_test_logits")
        self.curve.append((self.step, ev["train_loss"], ev["test_loss"]))
        if len(self.curve) > 4000:
            self.curve = self.curve[::2]
        with COMPUTE_LOCK:
            fr = {"type": "frame", "step": self.step,
                  "epoch": round(self.step * self.config["batch_size"] / len(self.F_train), 3),
                  **{k: round(v, 6) for k, v in ev.items()},
                  "weights": self._edges("data"), "grads": self._edges("grad"),
                  "biases": [_round(lin.bias.detach().numpy(), 5) for lin in self.linears],
                  "grad_norms": self.grad_norms()}
            if self.digits:
                w0 = self.linears[0].weight.detach().numpy()
                fr["neurons"] = [[_b64(_to_u8(row / (np.abs(row).max() + 1e-12))) for row in w0]] + \
                    [[None] * lin.out_features for lin in self.linears[1:-1]]
                fr["neuron_side"] = DIGITS_SIDE
                shown = te_logits[self._shown]
                z = shown - shown.max(1, keepdims=True)
                p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                fr["digits_pred"] = shown.argmax(1).tolist()
                fr["digits_conf"] = _round(p.max(1), 3)
                return fr
            hidden, logits = self._forward_record(self._grid_feats)
        prob = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0].astype(np.float64), -60, 60)))
        fr["heat"] = _b64(np.round(prob * 255))
        fr["heat_side"] = HEAT_SIDE
        side = NEURON_SIDE if sum(self.config["hidden"]) <= 48 else SMALL_NEURON_SIDE
        stride = HEAT_SIDE // side
        sub = np.zeros((HEAT_SIDE, HEAT_SIDE), bool)
        sub[::stride, ::stride] = True
        sub = sub.ravel()
        fr["neurons"] = [[_b64(col) for col in _columns_to_u8(h[sub])] for h in hidden]
        fr["output_picture"] = _b64(_to_u8(2 * prob[sub] - 1))
        fr["neuron_side"] = side
        return fr

    def dataset_message(self):
        """The points (or digit images) the page shows; sent once per configuration."""
        msg = {"type": "dataset", "dataset": self.config["dataset"], "n_train": len(self.F_train),
               "n_test": len(self.F_test)}
        if self.digits:
            shown = self.X_test[self._shown]
            msg["digits"] = [_b64(np.round(img * 255)) for img in shown]
            msg["digits_label"] = self.y_test[self._shown].tolist()
            msg["side"] = DIGITS_SIDE
            msg["train_preview"] = [_b64(np.round(self.X_train[i] * 255)) for i in range(8)]
            msg["train_preview_label"] = self.y_train[:8].tolist()
            return msg
        msg["train"] = _round(np.concatenate([self.X_train, self.y_train[:, None]], 1), 3)
        msg["test"] = _round(np.concatenate([self.X_test, self.y_test[:, None]], 1), 3)
        msg["extent"] = EXTENT
        g = np.linspace(-EXTENT, EXTENT, HEAT_SIDE, dtype=np.float32)
        gx, gy = np.meshgrid(g[::2], g[::-1][::2])
        pts = np.stack([gx.ravel(), gy.ravel()], 1)
        names = list(feats.FEATURES)          # all of them: switched-off features are drawn too
        fx = feats.compute(pts, names)
        msg["feature_pictures"] = {n: _b64(_to_u8(fx[:, j] / (np.abs(fx[:, j]).max() + 1e-12)))
                                   for j, n in enumerate(names)}
        msg["neuron_side"] = NEURON_SIDE
        return msg

    # ---- look inside one step ---------------------------------------------------------------
    def inspect(self, point, weight=None):
        """Forward, loss, backward and update for ONE training point, on a copy
        of the model and optimiser (training itself is not disturbed).

        ``weight``: (layer, to, frm) picks the weight whose chain rule is shown:
        W[layer][to, frm] connects neuron ``frm`` of the layer below (or input
        feature ``frm``) to neuron ``to``."""
        import dalam
        from .. import nn
        cfg = self.config
        point = int(point)
        if not 0 <= point < len(self.F_train):
            raise ValueError(f"inspect: point {point} is outside the training set (0..{len(self.F_train) - 1})")
        layer, to, frm = weight if weight is not None else (len(self.linears) - 1, 0, 0)
        if not 0 <= layer < len(self.linears):
            raise ValueError(f"inspect: layer {layer} does not exist (0..{len(self.linears) - 1})")
        lin = self.linears[layer]
        if not (0 <= to < lin.out_features and 0 <= frm < lin.in_features):
            raise ValueError(f"inspect: weight [{to}, {frm}] is outside layer {layer}'s "
                             f"{lin.out_features} x {lin.in_features} weight matrix")
        with COMPUTE_LOCK:
            clone = build_model(self.n_in, cfg["hidden"], cfg["activation"], cfg["dropout"], self.n_out)
            clone.load_state_dict(self.model.state_dict())
            clone.eval()                    # dropout off: one clear, repeatable pass
            opt = make_optimizer(cfg["optimizer"], clone.parameters(), cfg["lr"])
            opt.load_state_dict(copy.deepcopy(self.optimizer.state_dict()))
            lins = [m for m in clone if isinstance(m, nn.Linear)]
            acts = [m for m in clone if not isinstance(m, (nn.Linear, nn.Dropout))]
            x = dalam.tensor(self.F_train[point:point + 1])
            h, zs, as_ = x, [], []
            for k, l in enumerate(lins):
                z = l(h)
                z.retain_grad()
                zs.append(z)
                if k < len(acts):
                    h = acts[k](z)
                    h.retain_grad()
                    as_.append(h)
            out = zs[-1]
            y = self.y_train[point:point + 1]
            data_loss = self._data_loss(out, self._targets(y))
            pen = self._penalty(clone)
            loss = data_loss + pen if pen is not None else data_loss
            opt.zero_grad()
            loss.backward()
            W = lins[layer].weight
            w_old = float(W.detach().numpy()[to, frm])
            grad = float(W.grad.detach().numpy()[to, frm])
            a_from = float(x.detach().numpy()[0, frm]) if layer == 0 else float(as_[layer - 1].detach().numpy()[0, frm])
            dz = float(zs[layer].grad.detach().numpy()[0, to])
            chain = {"layer": layer, "to": to, "from": frm, "weight": w_old, "a_from": a_from,
                     "dL_dz": dz, "product": dz * a_from, "autograd_grad": grad}
            kind, rate = cfg["regularization"], cfg["reg_rate"]
            chain["reg_term"] = (2 * rate * w_old if kind == "l2" else rate * float(np.sign(w_old))) \
                if kind != "none" and rate else 0.0
            if layer < len(lins) - 1:
                zv = float(zs[layer].detach().numpy()[0, to])
                av = float(as_[layer].detach().numpy()[0, to])
                chain["dL_da"] = float(as_[layer].grad.detach().numpy()[0, to])
                chain["act_derivative"] = float(_act_derivative(cfg["activation"], zv, av))
            else:
                zo = out.detach().numpy()[0].astype(np.float64)
                if self.digits:
                    p = np.exp(zo - zo.max()); p /= p.sum()
                    chain["output_rule"] = f"softmax p[{to}] - [y == {to}] = {p[to]:.6g} - {int(y[0] == to)}"
                else:
                    p = 1 / (1 + math.exp(-zo[0]))
                    chain["output_rule"] = f"sigmoid(z) - y = {p:.6g} - {int(y[0])}"
            result = {
                "type": "inspect", "point": point, "x": _round(self.X_train[point], 4) if not self.digits else None,
                "label": int(y[0]),
                "forward": {
                    "inputs": _round(x.detach().numpy()[0], 6),
                    "z": [_round(z.detach().numpy()[0], 6) for z in zs],
                    "a": [_round(a.detach().numpy()[0], 6) for a in as_],
                },
                "loss": {"data": float(data_loss.item()), "penalty": float(pen.item()) if pen is not None else 0.0,
                         "total": float(loss.item())},
                "backward": {
                    "dL_dz": [_round(z.grad.detach().numpy()[0], 8) for z in zs],
                    "dL_da": [_round(a.grad.detach().numpy()[0], 8) for a in as_],
                    "grads": [None if (self.digits and k == 0) else _round(l.weight.grad.detach().numpy(), 8)
                              for k, l in enumerate(lins)],
                    "bias_grads": [_round(l.bias.grad.detach().numpy(), 8) for l in lins],
                },
                "chain": chain,
            }
            opt.step()
            w_new = float(lins[layer].weight.detach().numpy()[to, frm])
        formula = {"sgd": "w_new = w - lr * dL/dw",
                   "momentum": "v = 0.9 * v + dL/dw;  w_new = w - lr * v",
                   "adam": "m, v = running means of dL/dw and (dL/dw)^2;  w_new = w - lr * m_hat / (sqrt(v_hat) + eps)"}
        result["update"] = {"optimizer": cfg["optimizer"], "lr": cfg["lr"], "old": w_old, "new": w_new,
                            "delta": w_new - w_old, "formula": formula[cfg["optimizer"]]}
        if not self.digits:
            result["forward"]["probability"] = 1 / (1 + math.exp(-float(result["forward"]["z"][-1][0])))
        return result

    # ---- export -----------------------------------------------------------------------------
    def export_weights(self):
        """The model's state_dict as safetensors bytes (dalam.io.save: no pickle)."""
        from ..io import save
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        os.close(fd)
        try:
            with COMPUTE_LOCK:
                save(self.model.state_dict(), path, metadata={"source": "dalam playground",
                                                              "step": str(self.step)})
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    def export_code(self, steps=None):
        from .export import python_script
        return python_script(self.config, self.step if steps is None else steps)
