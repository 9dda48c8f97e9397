"""``dalam.nn.functional`` (``F``): the functional forms of layers and losses.

Re-exports the ops that live in ``dalam.ops`` (one place for the maths);
other areas add their names here (conv, pooling, normalisation ...)."""
from ..ops.activation import (relu, leaky_relu, elu, gelu, silu, softplus, sigmoid, tanh,
                              softmax, log_softmax)
from ..ops.linalg import linear
from ..ops.shape import pad
from ..ops.index import one_hot
from ..ops.attention import scaled_dot_product_attention
from ..ops.loss import (cross_entropy, nll_loss, mse_loss, l1_loss, huber_loss, smooth_l1_loss,
                        binary_cross_entropy, binary_cross_entropy_with_logits, kl_div,
                        soft_margin_loss, margin_ranking_loss, hinge_embedding_loss,
                        cosine_embedding_loss, triplet_margin_loss, poisson_nll_loss,
                        gaussian_nll_loss, multilabel_soft_margin_loss)
from ..ops.distance import normalize, cosine_similarity, pairwise_distance
from .linear import bilinear
from .dropout import dropout
from .activation import (hardtanh, relu6, hardsigmoid, hardswish, logsigmoid, softsign,
                         tanhshrink, mish, selu, celu, threshold, glu, prelu, softmin,
                         hardshrink, softshrink)


def relu_(input):
    return relu(input, inplace=True)
from ..ops.embedding import embedding  # noqa: E402,F401
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: E402,F401
from ..ops.pool import (max_pool1d, max_pool2d, avg_pool1d, avg_pool2d,  # noqa: E402,F401
                        adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,
                        adaptive_max_pool2d)
from ..ops.norm import batch_norm, layer_norm, group_norm  # noqa: E402,F401
from ..ops.resample import interpolate, upsample, pixel_shuffle, pixel_unshuffle  # noqa: E402,F401
from .dropout import dropout1d, dropout2d, dropout3d  # noqa: E402,F401
from ..ops.ctc import ctc_loss  # noqa: E402,F401
from ..ops.embedding_bag import embedding_bag  # noqa: E402,F401
