"""Few-shot learning: learning a new class from one or a few examples.

- ``backbone``: the 4-block conv net of the few-shot literature and input scaling;
- ``protonet``: prototypical networks (Snell et al. 2017): classify by distance
  to each class's mean embedding;
- ``siamese``: a Siamese network trained to verify "same character?" (Koch et
  al. 2015), then used for one-shot classification by the best match;
- ``maml``: model-agnostic meta-learning (Finn et al. 2017), second-order
  (differentiating through the inner SGD steps) or first-order;
- ``evaluate``: Lake et al.'s 20 one-shot runs and N-way K-shot episodes with
  95% confidence intervals.

Every method answers ``predict(support_x, support_y, query_x, n_way)`` with
scores (n_query, n_way), so one evaluation code serves all three.
"""
from .backbone import conv4, ConvBlock, to_input, random_shift  # noqa: F401
from .protonet import PrototypicalNetwork  # noqa: F401
from .siamese import SiameseNetwork  # noqa: F401
from .maml import MAML  # noqa: F401
from .evaluate import evaluate_runs, episode_accuracy, mean_ci95  # noqa: F401
