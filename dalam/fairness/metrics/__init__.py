"""Group fairness metrics: rates per group, parity criteria, calibration per group."""
from .calibration import calibration_by_group, calibration_gap, expected_calibration_error, reliability
from .group import GroupReport, by_group, group_report
from .parity import (demographic_parity_difference, demographic_parity_ratio, equal_opportunity_difference,
                     equalized_odds_difference, equalized_odds_ratio, multiclass_equalized_odds_gap,
                     per_class_rates)
from .rates import (accuracy, error_rate, false_negative_rate, false_positive_rate, selection_rate,
                    true_negative_rate, true_positive_rate)
