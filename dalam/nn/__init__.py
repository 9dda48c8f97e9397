"""``dalam.nn``: Module, Parameter, layers, losses, init and functional,
with PyTorch's names, defaults and ``state_dict`` layouts."""
from .parameter import Parameter, Buffer
from .module import Module
from .containers import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Identity, Linear, Bilinear, Flatten, Unflatten
from .dropout import Dropout
from .activation import (ReLU, LeakyReLU, ELU, CELU, SELU, GELU, SiLU, Mish, Sigmoid, Tanh,
                         Softplus, Hardtanh, ReLU6, Hardsigmoid, Hardswish, LogSigmoid, Softsign,
                         Tanhshrink, Threshold, Softmax, LogSoftmax, Softmin, GLU, PReLU,
                         Hardshrink, Softshrink, Softmax2d)
from .loss import (MSELoss, L1Loss, HuberLoss, SmoothL1Loss, BCELoss, BCEWithLogitsLoss,
                   CrossEntropyLoss, NLLLoss, KLDivLoss, SoftMarginLoss, MarginRankingLoss,
                   HingeEmbeddingLoss, CosineEmbeddingLoss, TripletMarginLoss, PoissonNLLLoss,
                   GaussianNLLLoss, MultiLabelSoftMarginLoss)
from . import init
from . import functional
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .sparse import Embedding
from . import utils
from .loss import CTCLoss  # noqa: E402,F401
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .pooling import (MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d,
                      AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d)
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm
from .dropout import Dropout1d, Dropout2d, Dropout3d
from .upsampling import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle,
                         PixelUnshuffle)
from .transformer import (MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer,
                          TransformerEncoder, TransformerDecoder, Transformer,
                          SinusoidalPositionalEncoding, LearnedPositionalEmbedding, rotary_embedding)
from . import parallel


def __getattr__(name):
    # SyncBatchNorm lives with the process group it talks to (dalam.distributed)
    if name == "SyncBatchNorm":
        from ..distributed.sync_batchnorm import SyncBatchNorm
        return SyncBatchNorm
    raise AttributeError(f"module 'dalam.nn' has no attribute {name!r}")
from .sparse import EmbeddingBag  # noqa: E402,F401
