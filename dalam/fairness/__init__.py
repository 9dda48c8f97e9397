"""Fairness: measure how a model's errors fall on groups, and reduce the gaps.

- ``metrics``: per-group rates (accuracy, error, selection, TPR/FPR/FNR/TNR), demographic parity
  and equalised odds (difference and ratio, fairlearn's definitions), calibration per group;
- ``mitigation``: sample re-weighting (Kamiran-Calders; balanced class weights) for the loss or
  the sampler, and per-group decision thresholds (or per-class logit offsets).

Every function takes plain columns (lists, numpy arrays or tensors): labels, predictions and a
group column of the same length.
"""
from .metrics import (GroupReport, accuracy, by_group, calibration_by_group, calibration_gap,
                      demographic_parity_difference, demographic_parity_ratio, equal_opportunity_difference,
                      equalized_odds_difference, equalized_odds_ratio, error_rate, expected_calibration_error,
                      false_negative_rate, false_positive_rate, group_report, multiclass_equalized_odds_gap,
                      per_class_rates, reliability, selection_rate, true_negative_rate, true_positive_rate)
from .mitigation import GroupThresholds, balanced_weights, fit_class_offsets, reweighing, weighted_sampler
