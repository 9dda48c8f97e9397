"""``LBFGS``: limited-memory BFGS with PyTorch's algorithm and API.

``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations on all
parameters flattened into one vector: the two-loop recursion over the last
``history_size`` (s, y) pairs gives the direction; the step is ``lr`` (the
first ever is scaled down to ``min(1, 1/|g|_1) * lr``) or comes from a
strong-Wolfe line search (``line_search_fn="strong_wolfe"``: bracketing,
then zoom with safeguarded cubic interpolation). It stops early when the
largest gradient entry is ``<= tolerance_grad``, or when the step or the
change in loss falls below ``tolerance_change``; state carries over between
``step`` calls, so the iterates follow PyTorch's step for step.

The closure re-evaluates the model, calls ``backward()`` and returns the loss::

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss
    opt.step(closure)
"""
import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from .optimizer import Optimizer


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to
    ``bounds`` (default: the interval); the midpoint when the cubic has none."""
    if bounds is None:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    else:
        lo, hi = bounds
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search along ``d`` from loss ``f``, gradient ``g`` (``gtd = g.d``)
    for a step ``t`` meeting the strong Wolfe conditions. ``evaluate(t)`` returns
    (loss, flat gradient) at ``x + t d``. Returns (loss, grad, t, evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    # phase 1: find an interval that contains a point meeting the conditions
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo, hi))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1
    if it == max_ls:
        br, br_f, br_g = [0.0, t], [f, f_new], [g, g_new]
    # phase 2: zoom into the interval
    stuck = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        top, bot = max(br), min(br)
        eps = 0.1 * (top - bot)
        if min(top - t, t - bot) < eps:  # too close to an end: move inside
            if stuck or t >= top or t <= bot:
                t = top - eps if abs(t - top) < abs(t - bot) else bot + eps
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new.copy(), gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = br[low], br_f[low], br_g[low], br_gtd[low]
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new.copy(), gtd_new
    return br_f[low], br_g[low], br[low], evals


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)``; one
    parameter group only, ``step`` needs a closure (see the module docstring)."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor):
            lr = lr.item()
        if not 0.0 <= lr:
            raise ValueError(f"LBFGS: invalid learning rate {lr} (must be >= 0)")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, got "
                             f"{line_search_fn!r}")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ---- the parameters as one flat vector
    def _flat_grad(self):
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(np.zeros(p._data.size, p._data.dtype))
            else:
                parts.append(p.grad._data.reshape(-1).astype(p._data.dtype, copy=False))
        return np.concatenate(parts) if len(parts) > 1 else parts[0].copy()

    def _add_step(self, t, d):
        off = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[off:off + n]).reshape(p._data.shape).astype(p._data.dtype, copy=False)
            p._vc[0] += 1
            off += n

    def _snapshot(self):
        return [p._data.copy() for p in self._params]

    def _restore(self, saved):
        for p, a in zip(self._params, saved):
            p._data[...] = a
            p._vc[0] += 1

    def _loss(self, closure):
        with grad_mode.enable_grad():
            out = closure()
        return out, float(out.item() if isinstance(out, Tensor) else out)

    def step(self, closure=None):
        """Up to ``max_iter`` iterations; returns the loss of the first closure call."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and returns "
                               "the loss (opt.step(closure)); see help(dalam.optim.LBFGS)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search, history = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            orig_loss, loss = self._loss(closure)
            evals = 1
            state["func_evals"] += 1
            g = self._flat_grad()
            dt = g.dtype
            if np.abs(g).max() <= tol_grad:
                return orig_loss
            d = _arr(state.get("d"))
            t = state.get("t")
            dirs = [_arr(v) for v in state.get("old_dirs", [])]
            stps = [_arr(v) for v in state.get("old_stps", [])]
            ro = [_num(v, dt) for v in state.get("ro", [])]
            h_diag = _num(state.get("H_diag", 1), dt)
            g_prev = _arr(state.get("prev_flat_grad"))
            loss_prev = state.get("prev_loss")
            n = 0
            while n < max_iter:
                n += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d = -g
                    dirs, stps, ro, h_diag = [], [], [], dt.type(1)
                else:
                    y = g - g_prev
                    s = d * t
                    ys = y.dot(s)
                    if ys > 1e-10:  # keep the pair only when the curvature is positive
                        if len(dirs) == history:
                            dirs.pop(0)
                            stps.pop(0)
                            ro.pop(0)
                        dirs.append(y)
                        stps.append(s)
                        ro.append(dt.type(1.0) / ys)
                        h_diag = ys / y.dot(y)
                    # two-loop recursion: d = -H g
                    q = -g
                    al = [None] * len(dirs)
                    for i in range(len(dirs) - 1, -1, -1):
                        al[i] = stps[i].dot(q) * ro[i]
                        q = q - al[i] * dirs[i]
                    r = q * h_diag
                    for i in range(len(dirs)):
                        be = dirs[i].dot(r) * ro[i]
                        r = r + (al[i] - be) * stps[i]
                    d = r
                g_prev = g.copy()
                loss_prev = loss
                if state["n_iter"] == 1:
                    t = min(1.0, float(dt.type(1.0) / np.abs(g).sum())) * lr
                else:
                    t = lr
                gtd = g.dot(d)
                if gtd > -tol_change:  # not a descent direction
                    break
                ls_evals = 0
                if line_search is not None:
                    x0 = self._snapshot()

                    def evaluate(step):
                        self._add_step(step, d)
                        _, f = self._loss(closure)
                        gr = self._flat_grad()
                        self._restore(x0)
                        return f, gr
                    loss, g, t, ls_evals = strong_wolfe(evaluate, t, d, loss, g, gtd)
                    self._add_step(t, d)
                    converged = np.abs(g).max() <= tol_grad
                else:
                    self._add_step(t, d)
                    converged = False
                    if n != max_iter:
                        _, loss = self._loss(closure)
                        g = self._flat_grad()
                        converged = np.abs(g).max() <= tol_grad
                        ls_evals = 1
                evals += ls_evals
                state["func_evals"] += ls_evals
                if n == max_iter or evals >= max_eval or converged:
                    break
                if np.abs(d * t).max() <= tol_change or abs(loss - loss_prev) < tol_change:
                    break
            state.update(d=_t(d), t=t, old_dirs=[_t(v) for v in dirs], old_stps=[_t(v) for v in stps],
                         ro=[float(v) for v in ro], H_diag=float(h_diag), prev_flat_grad=_t(g_prev),
                         prev_loss=loss_prev)
        finally:
            grad_mode.state.enabled = prev
        return orig_loss


def _arr(v):
    if v is None:
        return None
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _num(v, dt):
    if isinstance(v, Tensor):
        v = v.item()
    return dt.type(v)


def _t(a):
    return None if a is None else Tensor._make(a, False, None)
