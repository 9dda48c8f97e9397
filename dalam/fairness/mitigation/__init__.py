"""Mitigations: re-weight the training data (pre-processing) or choose per-group thresholds (post-processing)."""
from .reweighting import balanced_weights, reweighing, weighted_sampler
from .thresholds import GroupThresholds, fit_class_offsets
