"""Edit distance (Levenshtein) and the error rates built on it: word / digit /
character error rate = (substitutions + deletions + insertions) / reference
length, summed over a corpus (not averaged per sentence), as ASR scoring does."""
import numpy as np


def edit_distance(ref, hyp):
    """Minimum number of substitutions, deletions and insertions turning ``hyp``
    into ``ref`` (any sequences of comparable items: lists, strings, arrays)."""
    ref, hyp = list(ref), list(hyp)
    prev = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        sub = prev[:-1] + np.array([r != h for h in hyp], np.int64)
        cur[1:] = np.minimum(sub, prev[1:] + 1)
        for j in range(1, len(hyp) + 1):          # insertions run along the row
            if cur[j - 1] + 1 < cur[j]:
                cur[j] = cur[j - 1] + 1
        prev = cur
    return int(prev[-1])


def error_rate(refs, hyps):
    """Corpus error rate: total edit distance / total reference length."""
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"error_rate: {len(refs)} references but {len(hyps)} hypotheses")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("error_rate: the references are all empty")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total


def word_error_rate(refs, hyps):
    """WER of strings split on whitespace (or of token lists)."""
    split = lambda s: s.split() if isinstance(s, str) else s  # noqa: E731
    return error_rate([split(r) for r in refs], [split(h) for h in hyps])


def char_error_rate(refs, hyps):
    return error_rate([list(r) for r in refs], [list(h) for h in hyps])


def digit_error_rate(refs, hyps):
    """DER of digit sequences (lists of ints or strings such as '0451')."""
    return error_rate([list(r) for r in refs], [list(h) for h in hyps])


def sequence_accuracy(refs, hyps):
    """Fraction of sequences transcribed exactly."""
    refs, hyps = list(refs), list(hyps)
    return float(np.mean([list(r) == list(h) for r, h in zip(refs, hyps)]))
