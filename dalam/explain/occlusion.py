"""Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch of
``baseline`` values over the image and record how much the target score
drops; each pixel gets the mean drop over the patches that covered it.  No
gradients: it explains any model, at one forward pass per patch position."""
import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from ._grad import as_array, like, logits_of, model_state, resolve_target


def _positions(size, win, stride):
    last = size - win
    pos = list(range(0, last + 1, stride))
    if pos[-1] != last:  # reach the far edge too
        pos.append(last)
    return pos


def occlusion(model, x, target=None, window=4, stride=None, baseline=0.0, batch_size=256):
    """Score drop maps with x's shape for images x (N, C, H, W): the patch
    (``window`` pixels, int or (h, w); ``stride`` defaults to the window)
    covers all channels at once.  Positive = occluding it hurt the class."""
    caller = "occlusion"
    xa = as_array(x, "x", caller)
    if xa.ndim != 4:
        raise ValueError(f"{caller}: expected images (N, C, H, W), got shape {xa.shape}")
    n, c, H, W = xa.shape
    wh, ww = (window, window) if np.isscalar(window) else tuple(window)
    sh, sw = (wh, ww) if stride is None else ((stride, stride) if np.isscalar(stride) else tuple(stride))
    if not (0 < wh <= H and 0 < ww <= W and sh > 0 and sw > 0):
        raise ValueError(f"{caller}: window {(wh, ww)} and stride {(sh, sw)} must be positive and fit "
                         f"the {H}x{W} image")
    patches = [(i, j) for i in _positions(H, wh, sh) for j in _positions(W, ww, sw)]
    total = np.zeros((n, H, W), np.float64)
    count = np.zeros((H, W), np.float64)
    for i, j in patches:
        count[i:i + wh, j:j + ww] += 1
    per = max(1, batch_size // n)  # patch positions per forward pass
    with model_state(model, freeze=False), grad_mode.no_grad():
        out = logits_of(model(Tensor._make(xa, False, None)), caller)
        t = resolve_target(target, out, caller)
        base = out._data.reshape(n, -1)[np.arange(n), t].astype(np.float64)
        for k in range(0, len(patches), per):
            chunk = patches[k:k + per]
            xb = np.repeat(xa[None], len(chunk), 0)  # (P, N, C, H, W)
            for p, (i, j) in enumerate(chunk):
                xb[p, :, :, i:i + wh, j:j + ww] = baseline
            o = model(Tensor._make(xb.reshape(-1, c, H, W), False, None))
            o = logits_of(o, caller)._data.reshape(len(chunk), n, -1)
            drop = base[None] - o[:, np.arange(n), t]  # (P, N)
            for p, (i, j) in enumerate(chunk):
                total[:, i:i + wh, j:j + ww] += drop[p][:, None, None]
    attr = (total / count).astype(xa.dtype)
    return like(np.broadcast_to(attr[:, None], xa.shape).copy(), x)
