"""``dalam.compress``: make trained models smaller and faster.

- ``prune``: unstructured magnitude pruning (global or per layer, iterative),
  masks that keep pruned weights at zero through training, ``remove``.
- ``channel``: structured channel pruning that returns a smaller model.
- ``fuse``: fold BatchNorm into the conv/linear before it.
- ``quantize``: post-training int8 (per-channel weights, calibrated
  activations), int8 Linear/Conv2d, safetensors + JSON save/load.
- ``distill``: Hinton's soft-target loss and a distillation training loop.
"""
from . import prune  # noqa: F401
from .prune import (magnitude_prune, iterative_prune, mask_optimizer, sparsity,  # noqa: F401
                    make_permanent)
from .channel import channel_plan, mask_channels, shrink, channel_prune, count_parameters  # noqa: F401
from .fuse import fuse_conv_bn, fold_batchnorm  # noqa: F401
from .quantize import (quantize, calibrate, QuantizedLinear, QuantizedConv2d,  # noqa: F401
                       quantize_per_channel, dequantize_per_channel, save_quantized,
                       load_quantized)
from .distill import soft_target_loss, distillation_loss, distill  # noqa: F401

__all__ = ["prune", "magnitude_prune", "iterative_prune", "mask_optimizer", "sparsity",
           "make_permanent", "channel_plan", "mask_channels", "shrink", "channel_prune",
           "count_parameters", "fuse_conv_bn", "fold_batchnorm", "quantize", "calibrate",
           "QuantizedLinear", "QuantizedConv2d", "quantize_per_channel", "dequantize_per_channel",
           "save_quantized", "load_quantized", "soft_target_loss", "distillation_loss", "distill"]
