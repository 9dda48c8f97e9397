"""``dalam.distributions``: probability distributions with PyTorch's API
(``torch.distributions``): sample / rsample, log_prob, entropy, moments,
batch and event shapes, argument validation, and ``kl_divergence``.

Used by reinforcement learning (Categorical and Normal policies, dalam.rl)
and by VAEs (Normal rsample). One file per distribution.
"""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
