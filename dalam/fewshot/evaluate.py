"""Evaluation: Lake et al.'s original one-shot task and N-way K-shot episodes.

A *model* here is anything with ``predict(support_x, support_y, query_x,
n_way)`` returning scores (n_query, n_way), higher meaning more likely (all
of dalam.fewshot's methods).  Models are put in eval mode for the duration."""
import math

import numpy as np

from ..data.episodes import EpisodeSampler


def _scores(model, sx, sy, qx, n_way):
    from ..creation import tensor
    s = model.predict(sx, tensor(np.asarray(sy, np.int64)), qx, n_way)
    return np.asarray(s.numpy() if hasattr(s, "numpy") else s)


class _eval_mode:
    def __init__(self, model):
        self.model = model
        self.was = getattr(model, "training", None) if hasattr(model, "eval") else None

    def __enter__(self):
        if self.was is not None:
            self.model.eval()

    def __exit__(self, *a):
        if self.was is not None:
            self.model.train(self.was)


def evaluate_runs(model, runs):
    """The original task (Lake et al. 2015): per run, classify each of the 20
    test drawings among the run's 20 training drawings (20-way 1-shot within
    one alphabet); the score is the error rate over all 400 test items.
    ``runs``: an ``OmniglotRuns`` (or a list of dicts with support, query,
    labels).  Returns ``{'error': fraction, 'errors_per_run': [...],
    'items': 400}``."""
    wrong, per_run, items = 0, [], 0
    with _eval_mode(model):
        for run in runs:
            sx, qx, labels = run["support"], run["query"], np.asarray(run["labels"])
            n = len(sx)
            pred = _scores(model, sx, np.arange(n), qx, n).argmax(1)
            e = int((pred != labels).sum())
            per_run.append(e)
            wrong += e
            items += len(qx)
    return {"error": wrong / items, "errors_per_run": per_run, "items": items}


def mean_ci95(values):
    """Mean and the half-width of its normal-approximation 95% interval
    (1.96 standard errors), as few-shot papers report accuracies."""
    v = np.asarray(values, np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(1.96 * v.std(ddof=1) / math.sqrt(len(v)))


def episode_accuracy(model, images, labels, n_way, k_shot, n_query=1, episodes=600, seed=0, groups=None,
                     same_group=False):
    """Mean query accuracy over seeded N-way K-shot episodes drawn from
    ``images`` (uint8 (N, S, S)) with ``labels``; returns ``(mean, ci95,
    per_episode)``.  Raises (EpisodeSampler's error) when a class has fewer
    than ``k_shot + n_query`` images."""
    sampler = EpisodeSampler(labels, n_way, k_shot, n_query, episodes=episodes, seed=seed, groups=groups,
                             same_group=same_group)
    images = np.asarray(images)
    ns = n_way * k_shot
    sy = np.repeat(np.arange(n_way), k_shot)
    qy = np.repeat(np.arange(n_way), n_query)
    accs = []
    with _eval_mode(model):
        z = None
        if hasattr(model, "embed") and hasattr(model, "scores_from_embeddings"):
            # embeddings of every image once (eval-mode embeddings are per image)
            z = np.concatenate([model.embed(images[i:i + 500]).numpy() for i in range(0, len(images), 500)])
        from ..creation import tensor
        for idx in sampler:
            if z is not None:
                zb = tensor(z[idx])
                s = model.scores_from_embeddings(zb[:ns], tensor(sy), zb[ns:], n_way).numpy()
            else:
                batch = images[idx]
                s = _scores(model, batch[:ns], sy, batch[ns:], n_way)
            pred = s.argmax(1)
            accs.append(float((pred == qy).mean()))
    m, ci = mean_ci95(accs)
    return m, ci, accs
