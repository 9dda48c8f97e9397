"""The "export" button: a Python script that builds and trains the page's
model with dalam, written the way a tutorial would, and that reproduces the
page's training step for step (same data, same initial weights, same
mini-batch order, same dropout masks)."""
import json

from .bridge import ACTIVATIONS
from .features import SOURCE


def _model_source(cfg, n_in, n_out):
    lines, width = [], n_in
    for h in cfg["hidden"]:
        lines.append(f"    nn.Linear({width}, {h}), nn.{ACTIVATIONS[cfg['activation']]}(),")
        if cfg["dropout"] > 0:
            lines.append(f"    nn.Dropout({cfg['dropout']!r}),")
        width = h
    lines.append(f"    nn.Linear({width}, {n_out}),")
    return "model = nn.Sequential(\n" + "\n".join(lines) + "\n)"


def python_script(cfg, steps):
    """The script's text; it trains for ``steps`` steps (the page's count, or
    500 when the page has not trained yet)."""
    steps = int(steps) or 500
    digits = cfg["dataset"] == "digits"
    opt = {"sgd": f"optim.SGD(model.parameters(), lr={cfg['lr']!r})",
           "momentum": f"optim.SGD(model.parameters(), lr={cfg['lr']!r}, momentum=0.9)",
           "adam": f"optim.Adam(model.parameters(), lr={cfg['lr']!r})"}[cfg["optimizer"]]
    if digits:
        n_in, n_out = 196, 10
        feature_fn = "def features(X):\n    return X  # 14 x 14 pixels in [0, 1], flattened"
        loss_line = "loss_fn = nn.CrossEntropyLoss()"
        data_loss = "loss_fn(out, yb)"
        acc = "(out.argmax(1) == y).float().mean().item()"
        target = "dalam.tensor(y_train[idx])"
    else:
        n_in, n_out = len(cfg["features"]), 1
        cols = ",\n        ".join(f"{SOURCE[f]},  # {f}" for f in cfg["features"])
        feature_fn = ("def features(X):\n    \"\"\"The input features the page switched on; coordinates scaled by 1/3.\"\"\"\n"
                      "    a, b = X[:, 0] / 3.0, X[:, 1] / 3.0\n"
                      f"    return np.stack([\n        {cols}\n    ], 1).astype(np.float32)")
        loss_line = "loss_fn = nn.BCEWithLogitsLoss()"
        data_loss = "loss_fn(out[:, 0], yb)"
        acc = "((out[:, 0] > 0).float() == y).float().mean().item()"
        target = "dalam.tensor(y_train[idx])"
    reg = cfg["regularization"] if cfg["reg_rate"] else "none"
    penalty = {"none": "",
               "l2": f"\n    loss = loss + {cfg['reg_rate']!r} * sum((m.weight * m.weight).sum() for m in linears)  # L2",
               "l1": f"\n    loss = loss + {cfg['reg_rate']!r} * sum(m.weight.abs().sum() for m in linears)  # L1"}[reg]
    settings = json.dumps(cfg, sort_keys=True)
    return f'''"""Exported from the dalam playground.  Run:  python {"playground_export.py"}

The page's settings: {settings}
It trains the same model on the same points in the same order as the page did,
so it prints the page's loss curve."""
import numpy as np

import dalam
from dalam import nn, optim
from dalam.playground.data import make_dataset

SEED = {cfg["seed"]!r}
STEPS = {steps}
BATCH_SIZE = {cfg["batch_size"]!r}

X_train, y_train, X_test, y_test = make_dataset({cfg["dataset"]!r}, n_points={cfg["n_points"]!r}, noise={cfg["noise"]!r},
                                                train_ratio={cfg["train_ratio"]!r}, seed=SEED)


{feature_fn}


F_train, F_test = features(X_train), features(X_test)

dalam.manual_seed(SEED)  # the initial weights (and dropout masks) the page had
{_model_source(cfg, n_in, n_out)}
linears = [m for m in model if isinstance(m, nn.Linear)]
optimizer = {opt}
{loss_line}


def evaluate(F, y):
    model.eval()
    with dalam.no_grad():
        out = model(dalam.tensor(F))
        y = dalam.tensor(y)
        loss = {data_loss.replace("yb", "y")}.item()
        acc = {acc}
    model.train()
    return loss, acc


order = np.random.default_rng(SEED)  # mini-batches: a fresh shuffle every epoch
perm, pos = None, 0
losses = []
for step in range(STEPS):
    if perm is None or pos >= len(F_train):
        perm, pos = order.permutation(len(F_train)), 0
    idx = perm[pos:pos + BATCH_SIZE]
    pos += len(idx)
    out = model(dalam.tensor(F_train[idx]))
    yb = {target}
    loss = {data_loss}{penalty}
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if (step + 1) % max(1, STEPS // 10) == 0 or step + 1 == STEPS:
        train_loss, train_acc = evaluate(F_train, y_train)
        test_loss, test_acc = evaluate(F_test, y_test)
        print(f"step {{step + 1:6d}}  train loss {{train_loss:.4f}}  test loss {{test_loss:.4f}}  "
              f"test accuracy {{test_acc:.1%}}")

np.save("playground_losses.npy", np.array(losses, dtype=np.float64))  # one loss per step
dalam.save(model.state_dict(), "playground_model.safetensors")        # safetensors, no pickle
# To start from the page's weights instead:  model.load_state_dict(dalam.load("model.safetensors"))
'''
