"""Variable-length batching: pad a list of waveforms (or feature maps whose
last dim is time) to the longest one and keep the true lengths, so a model
can mask the padding (and CTC can be told each input's length)."""
import numbers

import numpy as np

from ..tensor import Tensor


def pad_batch(items, padding_value=0.0):
    """List of (..., time) arrays/Tensors -> (padded (B, ..., T_max) Tensor, lengths int64 Tensor)."""
    if len(items) == 0:
        raise ValueError("pad_batch: empty batch")
    arrs = [i._data if isinstance(i, Tensor) else np.asarray(i) for i in items]
    lead = {a.shape[:-1] for a in arrs}
    if len(lead) > 1:
        raise ValueError(f"pad_batch: items differ in more than their last (time) dim: {sorted(lead)}")
    lens = np.array([a.shape[-1] for a in arrs], np.int64)
    out = np.full((len(arrs),) + arrs[0].shape[:-1] + (int(lens.max()),), padding_value,
                  dtype=arrs[0].dtype)
    for i, a in enumerate(arrs):
        out[i, ..., :a.shape[-1]] = a
    return Tensor._make(out, False, None), Tensor._make(lens, False, None)


def pad_collate(batch):
    """A DataLoader ``collate_fn`` for samples whose first field varies in length
    (e.g. FSDD's (waveform, sample_rate, digit, speaker)): returns
    (padded waveforms (B, T_max), lengths (B,), then each other field batched:
    numbers as a Tensor, strings as a list)."""
    if len(batch) == 0:
        raise ValueError("pad_collate: empty batch")
    first = batch[0]
    if not isinstance(first, (tuple, list)):
        return pad_batch(batch)
    fields = list(zip(*batch))
    padded, lengths = pad_batch(fields[0])
    out = [padded, lengths]
    for f in fields[1:]:
        if all(isinstance(v, numbers.Integral) for v in f):
            out.append(Tensor._make(np.array(f, np.int64), False, None))
        elif all(isinstance(v, numbers.Real) for v in f):
            out.append(Tensor._make(np.array(f, np.float32), False, None))
        elif all(isinstance(v, (Tensor, np.ndarray)) for v in f):
            p, l = pad_batch(f)
            out.append(p)
        else:
            out.append(list(f))
    return tuple(out)
