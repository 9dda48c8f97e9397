"""Grad-CAM (Selvaraju et al. 2017): where in a conv layer's feature maps the
evidence for a class lies.  The channel weights are the spatially averaged
gradients of the class score w.r.t. the layer's output; the map is
ReLU(sum_k w_k A_k), bilinearly upsampled to the input's size.  The layer's
output is caught with a forward hook (``Module.register_forward_hook``) that
is removed again before returning."""
import numpy as np

from ..autograd import grad as _autograd_grad
from ..autograd import grad_mode
from ..nn.module import Module
from ..ops.resample import interpolate
from ..tensor import Tensor
from ._grad import as_array, class_score, like, logits_of, model_state, resolve_target


def grad_cam(model, x, target_layer, target=None, relu=True, upsample=True):
    """Grad-CAM maps (N, H, W) of ``target_layer`` (a submodule of ``model``
    whose output is (N, C, h, w), typically the last conv block) for the
    ``target`` class (None: the predicted one); ``upsample`` resizes them to
    x's H x W (bilinear), else they have the layer's h x w.  A layer that runs
    more than once per forward is explained at its last call."""
    caller = "grad_cam"
    if not isinstance(target_layer, Module):
        raise TypeError(f"{caller}: target_layer must be a dalam.nn.Module inside the model (e.g. "
                        f"model.features[3]); got {type(target_layer).__name__}")
    if not any(m is target_layer for m in model.modules()):
        raise ValueError(f"{caller}: target_layer {type(target_layer).__name__} is not a submodule of "
                         "the model; pass a layer of this model")
    xa = as_array(x, "x", caller)
    caught = []
    handle = target_layer.register_forward_hook(
        lambda m, args, out: caught.append(out[0] if isinstance(out, (tuple, list)) else out))
    try:
        with model_state(model):
            xt = Tensor._make(np.array(xa, copy=True), True, None)
            out = logits_of(model(xt), caller)
            if not caught:
                raise RuntimeError(f"{caller}: target_layer {type(target_layer).__name__} was not called "
                                   "during the model's forward; pass a layer on the path to the output")
            act = caught[-1]
            if act.ndim < 3:
                raise RuntimeError(f"{caller}: target_layer output has shape {tuple(act.shape)}; Grad-CAM "
                                   "needs (N, C, h, w) feature maps (choose a conv layer or block)")
            t = resolve_target(target, out, caller)
            (g,) = _autograd_grad(class_score(out, t), act, allow_unused=True)
    finally:
        handle.remove()
    a = act._data
    g = np.zeros_like(a) if g is None else g._data
    spatial = tuple(range(2, a.ndim))
    weights = g.mean(axis=spatial, keepdims=True)
    cam = (weights * a).sum(1)
    if relu:
        cam = np.maximum(cam, 0)
    if upsample and cam.ndim == 3 and xa.ndim == 4 and cam.shape[1:] != xa.shape[2:]:
        with grad_mode.no_grad():
            cam = interpolate(Tensor._make(cam[:, None], False, None), size=xa.shape[2:],
                              mode="bilinear", align_corners=False)._data[:, 0]
    return like(cam.astype(xa.dtype, copy=False), x)
