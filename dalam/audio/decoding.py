"""CTC decoding: greedy (best path: argmax per frame, merge repeats, drop
blanks) and prefix beam search (Hannun et al. 2014 without a language model:
sums the probability of every alignment of a prefix, so it can beat greedy
when several paths share a labelling)."""
import math
from collections import defaultdict

import numpy as np

from ..tensor import Tensor


def _arr(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def ctc_greedy_decode(log_probs, input_lengths=None, blank=0):
    """log_probs (T, N, C) or (T, C) -> list of label lists (one per batch item)."""
    lp = _arr(log_probs)
    single = lp.ndim == 2
    if single:
        lp = lp[:, None, :]
    if lp.ndim != 3:
        raise ValueError(f"ctc_greedy_decode: expected (T, N, C) or (T, C), got shape {lp.shape}")
    T, N, _ = lp.shape
    lens = np.full(N, T) if input_lengths is None else _arr(input_lengths).reshape(-1)
    best = lp.argmax(-1)                                     # (T, N)
    out = []
    for n in range(N):
        path = best[:int(lens[n]), n]
        keep = np.ones(len(path), bool)
        keep[1:] = path[1:] != path[:-1]
        out.append([int(c) for c in path[keep] if c != blank])
    return out[0] if single else out


def ctc_prefix_beam_search(log_probs, beam_width=8, blank=0, input_length=None, prune=-12.0):
    """One utterance's log_probs (T, C) -> (best label list, its log probability).
    Classes whose frame log-prob is below ``prune`` are skipped (speed)."""
    lp = _arr(log_probs)
    if lp.ndim != 2:
        raise ValueError(f"ctc_prefix_beam_search: expected one utterance (T, C), got shape {lp.shape}; "
                         "loop over the batch")
    T = lp.shape[0] if input_length is None else int(input_length)
    lse = np.logaddexp
    # prefix -> (log P(prefix, ends in blank), log P(prefix, ends in non-blank))
    beams = {(): (0.0, -math.inf)}
    for t in range(T):
        row = lp[t]
        cands = np.where(row > prune)[0]
        if len(cands) == 0:
            cands = [int(row.argmax())]
        nxt = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (pb, pnb) in beams.items():
            total = lse(pb, pnb)
            for c in cands:
                p = float(row[c])
                if c == blank:
                    e = nxt[prefix]
                    e[0] = lse(e[0], total + p)
                    continue
                last = prefix[-1] if prefix else None
                new = prefix + (int(c),)
                e = nxt[new]
                if c == last:        # a repeat needs a blank in between to count twice
                    e[1] = lse(e[1], pb + p)
                    same = nxt[prefix]
                    same[1] = lse(same[1], pnb + p)
                else:
                    e[1] = lse(e[1], total + p)
        beams = dict(sorted(nxt.items(), key=lambda kv: -lse(*kv[1]))[:beam_width])
    best, (pb, pnb) = max(beams.items(), key=lambda kv: lse(*kv[1]))
    return list(best), float(lse(pb, pnb))
