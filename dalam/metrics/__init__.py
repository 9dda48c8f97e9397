"""``dalam.metrics``: evaluation metrics, as functions on whole prediction sets
and as stateful ``Metric`` objects that ``dalam.fit`` accumulates per batch
(usable there by name: ``metrics=["accuracy", "f1"]``)."""
from .classification import (accuracy, top_k_accuracy, precision, recall, f1_score,  # noqa: F401
                             confusion_matrix, predicted_labels, target_labels, Metric, Accuracy,
                             TopKAccuracy, Precision, Recall, F1Score, ConfusionMatrix, get_metric)
from .fid import frechet_distance, mnist_fid, feature_stats  # noqa: F401,E402
from .edit_distance import (edit_distance, error_rate, word_error_rate, char_error_rate,  # noqa: F401,E402
                            digit_error_rate, sequence_accuracy)
from .ranking import (rmse, mae, ranks_of_first, full_ranking_ranks, hit_rate, ndcg, mrr,  # noqa: F401,E402
                      ranking_report, top_k, catalogue_coverage, popularity_bias, per_group)
