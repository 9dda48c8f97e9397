"""Fold an eval-mode BatchNorm into the convolution (or Linear) before it.

In eval mode BatchNorm is a per-channel affine map with fixed statistics, so
``bn(conv(x)) = conv'(x)`` with ``w' = w * g`` and ``b' = (b - mean) * g + beta``,
``g = gamma / sqrt(var + eps)``.  Used before quantisation (one layer to
quantise instead of two, and the folded weights get their own scales) and
as an inference speed-up on its own.
"""
import copy

import numpy as np

__all__ = ["fuse_conv_bn", "fold_batchnorm"]


def fuse_conv_bn(conv, bn):
    """A new Conv2d/Linear equal to ``bn(conv(x))`` with ``bn`` in eval mode."""
    from .. import nn
    if bn.running_mean is None:
        raise ValueError("fuse_conv_bn: the BatchNorm has no running statistics "
                         "(track_running_stats=False), so it is not a fixed affine map")
    w = conv.weight._data
    dt = w.dtype
    var = bn.running_var._data.astype(np.float64)
    g = 1.0 / np.sqrt(var + bn.eps)
    if bn.weight is not None:
        g = g * bn.weight._data
    beta = bn.bias._data if bn.bias is not None else 0.0
    b = conv.bias._data if conv.bias is not None else 0.0
    new_b = ((b - bn.running_mean._data) * g + beta).astype(dt)
    new_w = (w * g.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dt)
    if type(conv).__name__ == "Linear":
        new = nn.Linear(conv.in_features, conv.out_features, True, dtype=dt)
    else:
        if getattr(conv, "transposed", False):
            raise ValueError("fuse_conv_bn: transposed convolutions are not folded")
        new = type(conv)(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                         conv.padding, conv.dilation, conv.groups, True, conv.padding_mode, dtype=dt)
    new.weight._data[...] = new_w
    new.bias._data[...] = new_b
    return new.train(False)


def fold_batchnorm(model):
    """A copy of ``model`` (eval mode) in which every Conv/Linear directly
    followed by a BatchNorm (in registration order) absorbs it; the norm
    becomes ``nn.Identity``."""
    from .. import nn
    out = copy.deepcopy(model).eval()
    leaves = [(n, m) for n, m in out.named_modules() if not m._modules]
    for (n1, a), (n2, b) in zip(leaves, leaves[1:]):
        if (type(a).__name__ in ("Conv1d", "Conv2d", "Linear")
                and type(b).__name__ in ("BatchNorm1d", "BatchNorm2d")
                and b.running_mean is not None):
            for name, new in ((n1, fuse_conv_bn(a, b)), (n2, nn.Identity())):
                parent, _, leaf = name.rpartition(".")
                setattr(out.get_submodule(parent), leaf, new)
    return out
