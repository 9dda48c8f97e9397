"""Structured channel pruning of conv layers that really shrinks the model.

``channel_plan`` chooses, for each Conv2d, which output channels to keep
(smallest L1 filter norm out first, as Li et al. 2017, or smallest |gamma| of
the BatchNorm that follows, as "network slimming"); ``mask_channels`` zeros the
others in a copy (conv filter and bias, and the BatchNorm's gamma and beta, so
the channel is exactly 0 after the norm in train and eval mode); ``shrink``
builds the smaller model: conv, BatchNorm and the next conv's input channels
or the Linear's input features after a Flatten are sliced.  The shrunk model
computes the same outputs as the masked one (up to float rounding), with
fewer parameters and less work.

Scope: the model's leaf modules must run in registration order as a chain
(``nn.Sequential``, LeNet5, the MNIST CNNs); skip connections and grouped
convolutions are refused with an error naming the layer.
"""
import copy

import numpy as np

__all__ = ["channel_plan", "mask_channels", "shrink", "channel_prune", "count_parameters"]

# modules that act on each channel separately (pass the channel set through)
_PASS = {"ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Tanh",
         "Sigmoid", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus",
         "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout",
         "Dropout2d", "AlphaDropout", "Identity", "Upsample", "UpsamplingNearest2d",
         "UpsamplingBilinear2d", "ZeroPad2d", "ConstantPad2d"}
_BN = {"BatchNorm2d"}


def count_parameters(model):
    """Number of parameter entries (each shared tensor once)."""
    return sum(int(p._data.size) for p in model.parameters())


def _leaves(model):
    return [(n, m) for n, m in model.named_modules() if not m._modules]


def _convs(model):
    return [(n, m) for n, m in _leaves(model) if type(m).__name__ == "Conv2d"]


def channel_plan(model, amount=0.5, criterion="l1", layers=None, min_channels=1):
    """``{conv_name: sorted kept output-channel indices}``.

    ``amount``: fraction of each conv's output channels to remove (or a dict
    ``{name: fraction}``); ``criterion``: ``'l1'`` (filter L1 norm) or ``'bn'``
    (|gamma| of the following BatchNorm2d); ``layers``: names of the convs to
    prune (default all Conv2d).  At least ``min_channels`` are kept."""
    if criterion not in ("l1", "bn"):
        raise ValueError(f"channel_plan: criterion must be 'l1' or 'bn', got {criterion!r}")
    leaves = _leaves(model)
    plan = {}
    for i, (name, conv) in enumerate(leaves):
        if type(conv).__name__ != "Conv2d" or (layers is not None and name not in layers):
            continue
        if conv.groups != 1:
            raise ValueError(f"channel_plan: Conv2d '{name}' has groups={conv.groups}; only "
                             "groups=1 convolutions can be channel-pruned")
        frac = amount.get(name, 0.0) if isinstance(amount, dict) else amount
        if not 0.0 <= float(frac) < 1.0:
            raise ValueError(f"channel_plan: amount for '{name}' must be in [0, 1), got {frac}")
        w = conv.weight._data
        if criterion == "l1":
            score = np.abs(w).reshape(w.shape[0], -1).sum(1)
        else:
            nxt = leaves[i + 1][1] if i + 1 < len(leaves) else None
            if nxt is None or type(nxt).__name__ not in _BN or nxt.weight is None:
                raise ValueError(f"channel_plan: criterion='bn' needs an affine BatchNorm2d right "
                                 f"after Conv2d '{name}'")
            score = np.abs(nxt.weight._data)
        n = w.shape[0]
        keep_n = max(min_channels, n - int(round(float(frac) * n)))
        keep = np.sort(np.argsort(-score.astype(np.float64), kind="stable")[:keep_n])
        plan[name] = keep
    return plan


def _walk(model, plan, visit):
    """Walk the chain of leaves carrying the kept channel indices of the
    current activation; ``visit(name, module, keep_in, keep_out, hw)``."""
    keep = None        # kept channels of the current activation (None: all)
    channels = None    # channel count of the original activation
    flat = False       # a Flatten has run since the last channel change
    for name, m in _leaves(model):
        kind = type(m).__name__
        if kind == "Conv2d":
            if flat:
                raise ValueError(f"shrink: Conv2d '{name}' after a Flatten is not supported")
            if m.groups != 1 and (keep is not None or name in plan):
                raise ValueError(f"shrink: Conv2d '{name}' has groups={m.groups}; only groups=1 "
                                 "convolutions can be resized")
            out = plan.get(name)
            visit(name, m, keep, out, None)
            keep, channels = out, m.out_channels
        elif kind in _BN:
            visit(name, m, keep, keep, None)
        elif kind == "Flatten":
            flat = True
        elif kind == "Linear":
            if keep is not None:
                if not flat:
                    raise ValueError(f"shrink: Linear '{name}' follows pruned conv channels "
                                     "without a Flatten in between")
                if m.in_features % channels:
                    raise ValueError(f"shrink: Linear '{name}' in_features={m.in_features} is not "
                                     f"a multiple of the {channels} channels before it")
                hw = m.in_features // channels
                feats = (keep[:, None] * hw + np.arange(hw)[None, :]).ravel()
                visit(name, m, feats, None, hw)
            keep, channels, flat = None, None, False
        elif kind in _PASS or keep is None:
            continue  # per-channel layers, or any layer while all channels are present
        else:
            raise ValueError(f"shrink: layer '{name}' ({kind}) receives pruned channels but is not "
                             "known to act per channel; channel pruning supports chains of Conv2d, "
                             "BatchNorm2d, activations, pooling, dropout, Flatten and Linear")


def _set(model, name, new):
    parent, _, leaf = name.rpartition(".")
    setattr(model.get_submodule(parent), leaf, new)


def mask_channels(model, plan):
    """A copy of ``model`` with the removed channels zeroed (conv filters and
    biases, BatchNorm gamma/beta): the reference the shrunk model matches."""
    out = copy.deepcopy(model)

    def visit(name, m, keep_in, keep_out, hw):
        if keep_out is None:
            return
        mod = out.get_submodule(name)
        if mod._parameters.get("weight") is None:
            raise ValueError(f"mask_channels: {type(m).__name__} '{name}' has no affine weight, so "
                             "a removed channel would not be zero after it (use affine=True)")
        drop = np.ones(mod.weight._data.shape[0], bool)
        drop[keep_out] = False
        mod.weight._data[drop] = 0
        if mod._parameters.get("bias") is not None:
            mod.bias._data[drop] = 0

    _walk(model, plan, visit)
    return out


def shrink(model, plan):
    """A new, smaller model: the kept channels of each planned conv, and the
    matching slices of the BatchNorms, next convs and the first Linear."""
    from .. import nn
    out = copy.deepcopy(model)

    def visit(name, m, keep_in, keep_out, hw):
        kind = type(m).__name__
        if kind == "Conv2d":
            w = m.weight._data
            if keep_out is not None:
                w = w[keep_out]
            if keep_in is not None:
                w = w[:, keep_in]
            if keep_in is None and keep_out is None:
                return
            new = nn.Conv2d(w.shape[1], w.shape[0], m.kernel_size, m.stride, m.padding,
                            m.dilation, 1, m.bias is not None, m.padding_mode, dtype=w.dtype)
            new.weight._data[...] = w
            if m.bias is not None:
                new.bias._data[...] = m.bias._data if keep_out is None else m.bias._data[keep_out]
        elif kind in _BN:
            if keep_in is None:
                return
            new = type(m)(len(keep_in), eps=m.eps, momentum=m.momentum, affine=m.affine,
                          track_running_stats=m.track_running_stats, dtype=m.weight.dtype
                          if m.weight is not None else None)
            for k in ("weight", "bias"):
                if m._parameters.get(k) is not None:
                    new._parameters[k]._data[...] = m._parameters[k]._data[keep_in]
            for k in ("running_mean", "running_var"):
                if m._buffers.get(k) is not None:
                    new._buffers[k]._data[...] = m._buffers[k]._data[keep_in]
            if m._buffers.get("num_batches_tracked") is not None:
                new._buffers["num_batches_tracked"]._data[...] = m._buffers["num_batches_tracked"]._data
            new.train(m.training)
        else:  # Linear after Flatten: keep the features of the kept channels
            w = m.weight._data[:, keep_in]
            new = nn.Linear(w.shape[1], w.shape[0], m.bias is not None, dtype=w.dtype)
            new.weight._data[...] = w
            if m.bias is not None:
                new.bias._data[...] = m.bias._data
        new.train(m.training)
        _set(out, name, new)

    _walk(model, plan, visit)
    return out


def channel_prune(model, amount=0.5, criterion="l1", layers=None):
    """``shrink(model, channel_plan(model, amount, criterion, layers))``."""
    return shrink(model, channel_plan(model, amount, criterion, layers))
