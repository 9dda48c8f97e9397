"""Training loops and run folders for the recommenders (used by the examples,
the tutorial and ``dalam recommend``).  Each loop is a few lines of ordinary
dalam: a shuffled batch of index pairs, a loss, backward, an optimiser step.

A run folder holds ``model.safetensors`` (the state dict) and ``run.json``
(model class, constructor arguments, dataset and metrics): no pickle."""
import json
import pathlib

import numpy as np

from ... import nn, optim
from ...autograd import grad_mode
from ...tensor import Tensor


def _t(a):
    return Tensor._make(a, False, None)


def batches(n, batch_size, rng):
    p = rng.permutation(n)
    for s in range(0, n, batch_size):
        yield p[s:s + batch_size]


def train_rating_model(model, train, epochs=20, lr=0.01, reg=0.05, batch_size=1024, seed=0,
                       bias_reg=0.1, log=None, weight_decay=0.0, valid=None):
    """Biased MF / TwoTower on explicit ratings: MSE + ``reg`` x squared rows
    of the batch (per rating, as Surprise's SVD), Adam (SparseAdam for the
    tables when the model's embeddings are sparse).  With ``valid`` (Ratings
    held out of ``train``) the model ends with its best epoch's weights."""
    rng = np.random.default_rng(seed)
    params = list(model.parameters())
    if getattr(model, "sparse", False):
        sp = [p for n, p in model.named_parameters() if n.endswith("factors.weight") or
              n.endswith("bias.weight") and "global" not in n]
        dense = [p for p in params if all(p is not q for q in sp)]
        opts = [optim.SparseAdam(sp, lr=lr), optim.Adam(dense, lr=lr, weight_decay=weight_decay)]
    else:
        opts = [optim.Adam(params, lr=lr, weight_decay=weight_decay)]
    u_all, i_all, r_all = train.user, train.item, train.rating
    best, best_rmse = None, None
    for ep in range(epochs):
        model.train()
        tot = 0.0
        for b in batches(len(train), batch_size, rng):
            u, i, r = u_all[b], i_all[b], _t(r_all[b])
            pred = model(u, i)
            mse = ((pred - r) ** 2).mean()
            loss = mse + reg * model.penalty(u, i, bias_reg) / len(b) \
                if reg and hasattr(model, "penalty") else mse
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
            tot += float(mse.item()) * len(b)
        msg = f"epoch {ep + 1}: train mse {tot / len(train):.4f}"
        if valid is not None:  # keep the epoch with the best validation RMSE
            model.eval()
            p = predict_ratings(model, valid.user, valid.item)
            v = float(np.sqrt(np.mean((p - valid.rating) ** 2)))
            msg += f"  valid rmse {v:.4f}"
            if best_rmse is None or v < best_rmse:
                best_rmse = v
                best = {k: t.detach().numpy().copy() for k, t in model.state_dict().items()}
        if log:
            log(msg)
    if valid is not None:
        model.load_state_dict(best)
    model.eval()
    return model


def predict_ratings(model, users, items, batch_size=8192):
    out = []
    with grad_mode.no_grad():
        for s in range(0, len(users), batch_size):
            out.append(model(users[s:s + batch_size], items[s:s + batch_size]).numpy())
    return np.clip(np.concatenate(out), 1.0, 5.0)


def train_autorec(model, train, epochs=100, lr=1e-3, weight_decay=0.0, reg=1.0, batch_size=64,
                  seed=0, log=None):
    """Item AutoRec: sum over items of the masked squared error + reg/2 ||W||^2
    (per batch: mean over its items + reg/2 ||W||^2 / items)."""
    rng = np.random.default_rng(seed)
    R, M = model.rating_matrix(train, model.num_users, model.num_items)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rows = np.flatnonzero(M.any(1))
    for ep in range(epochs):
        model.train()
        tot = 0.0
        for b in batches(len(rows), batch_size, rng):
            it = rows[b]
            x, m = _t(R[it]), _t(M[it].astype(np.float32))
            err = ((model(x) - x) * m) ** 2
            loss = err.sum() / len(it)
            if reg:  # the paper's lambda/2 ||W||^2 over a whole epoch, spread over its batches
                loss = loss + reg * 0.5 * ((model.encoder.weight ** 2).sum()
                                           + (model.decoder.weight ** 2).sum()) / len(rows)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(err.sum().item())
        if log:
            log(f"epoch {ep + 1}: train mse {tot / M.sum():.4f}")
    model.eval()
    return R


def train_implicit(model, sampler, epochs=20, lr=1e-3, batch_size=256, seed=0, log=None,
                   evaluate=None, weight_decay=0.0, history=None):
    """GMF / MLP / NeuMF on implicit feedback: BCE-with-logits on positives and
    fresh sampled negatives each epoch.  With ``evaluate`` (a function of the
    model returning {name: value}, higher is better, on *validation* data), the
    model ends with the weights of its best epoch by the first value (and
    ``history``, a list, receives each epoch's values)."""
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    lossf = nn.BCEWithLogitsLoss()
    best, best_key = None, None
    for ep in range(epochs):
        model.train()
        u_all, i_all, y_all = sampler.epoch(ep)
        tot = 0.0
        for b in batches(len(u_all), batch_size, rng):
            loss = lossf(model(u_all[b], i_all[b]), _t(y_all[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.item()) * len(b)
        model.eval()
        msg = f"epoch {ep + 1}: bce {tot / len(u_all):.4f}"
        if evaluate is not None:
            res = evaluate(model)
            if history is not None:
                history.append(res)
            msg += "  " + "  ".join(f"{k} {v:.4f}" for k, v in res.items())
            key = next(iter(res.values()))
            if best_key is None or key > best_key:  # keep the best epoch on the validation data
                best_key = key
                best = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
                msg += "  *"
        if log:
            log(msg)
    if best is not None:
        model.load_state_dict(best)
    return model


def score_candidates(model, users, cand):
    """(N, C) scores of candidate items per user."""
    with grad_mode.no_grad():
        uu = np.repeat(users, cand.shape[1])
        return model(uu, cand.reshape(-1)).numpy().reshape(cand.shape)


def user_histories(ratings, num_users):
    """Per user, the items in time order (ties by file order)."""
    order = np.lexsort((np.arange(len(ratings)), ratings.timestamp, ratings.user))
    u, i = ratings.user[order], ratings.item[order]
    cuts = np.searchsorted(u, np.arange(num_users + 1))
    return [i[cuts[k]:cuts[k + 1]] for k in range(num_users)]


def train_sasrec(model, histories, epochs=50, lr=1e-3, batch_size=128, seed=0, log=None,
                 evaluate=None, history=None, eval_every=5):
    """Next-item prediction at every position, full softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    L = model.max_len
    seqs = [h for h in histories if len(h) >= 2]
    lossf = nn.CrossEntropyLoss(ignore_index=-1)
    best, best_key = None, None
    for ep in range(epochs):
        model.train()
        tot = n = 0
        for b in batches(len(seqs), batch_size, rng):
            inp = model.histories([seqs[k][:-1] for k in b])
            tgt = np.full((len(b), L), -1, np.int64)
            for r, k in enumerate(b):
                t = seqs[k][1:][-L:]
                tgt[r, L - len(t):] = t
            logits = model.logits(model(inp))
            loss = lossf(logits.reshape(-1, model.num_items), _t(tgt.reshape(-1)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.item())
            n += 1
        model.eval()
        msg = f"epoch {ep + 1}: ce {tot / n:.4f}"
        if evaluate is not None and (ep + 1) % eval_every == 0:
            res = evaluate(model)
            if history is not None:
                history.append((ep + 1, res))
            msg += "  " + "  ".join(f"{k} {v:.4f}" for k, v in res.items())
            key = next(iter(res.values()))
            if best_key is None or key > best_key:  # best epoch on validation data
                best_key = key
                best = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
                msg += "  *"
        if log:
            log(msg)
    if best is not None:
        model.load_state_dict(best)
    return model


# ---------------------------------------------------------------- run folders
def save_run(folder, model, config, info=None):
    """``model.safetensors`` + ``run.json`` {model, config, info}."""
    from ...io import save
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save(model.state_dict(), folder / "model.safetensors")
    from ...io.atomic import atomic_write
    atomic_write(folder / "run.json", json.dumps({"model": type(model).__name__, "config": config,
                                                  "info": info or {}}, indent=1).encode())


def load_run(folder):
    """(model, run dict) from a folder written by ``save_run``."""
    from ... import models
    from ...io import load
    folder = pathlib.Path(folder)
    meta_p, w_p = folder / "run.json", folder / "model.safetensors"
    for p in (meta_p, w_p):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: {folder} is not a recommender run folder "
                                    "(made by examples/movielens_rating.py or save_run)")
    run = json.loads(meta_p.read_text())
    cls = getattr(models, run["model"], None)
    if cls is None:
        raise ValueError(f"{meta_p}: unknown model {run['model']!r}")
    model = cls(**run["config"])
    model.load_state_dict(load(w_p))
    model.eval()
    return model, run
