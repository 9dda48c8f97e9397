"""``SyncBatchNorm``: batch statistics over the whole global batch.

With plain BatchNorm under DDP each rank normalises with the mean and
variance of its own slice of the batch, so N ranks with batch B do not train
like one process with batch N x B.  Here, in training:

forward   each rank computes per channel (count, mean, M2 = sum (x - mean)^2),
          they are all-gathered and combined (Chan et al.'s parallel formula,
          steadier than sum/sum-of-squares in float32) into the global mean
          and variance; running stats use the global unbiased variance;
backward  the two per-channel sums the input gradient needs, sum(dy) and
          sum(dy * xhat), are all-reduced; the weight and bias gradients stay
          local (DDP averages them like any other parameter).
Outside a process group (or with one rank, or in eval mode) it is BatchNorm.
"""
import numpy as np

from ..autograd.function import Function
from ..nn.normalization import _BatchNorm
from . import collectives as _c
from . import process_group as _pg


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _bshape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class SyncBatchNormFn(Function):
    """x (N, C, *) normalised with statistics over every rank's batch.
    ``comm``: an mpi4py communicator, or None for this process alone."""
    saves = (0,)

    def forward(self, x, w, b, comm, running_mean, running_var, momentum, eps):
        axes, bs = _axes(x), _bshape(x)
        n = x.size // x.shape[1]
        mean_l = x.mean(axis=axes)
        xc = x - mean_l.reshape(bs)
        m2_l = (xc * xc).sum(axis=axes)
        if comm is not None and comm.Get_size() > 1:
            mine = np.concatenate([[n], mean_l, m2_l]).astype(np.float64)
            everyone = np.empty((comm.Get_size(), mine.size), np.float64)
            _c.wait(comm.Iallgather(mine, everyone), "SyncBatchNorm forward")
            counts, means, m2s = everyone[:, 0], everyone[:, 1:1 + x.shape[1]], everyone[:, 1 + x.shape[1]:]
            total = counts.sum()
            mean = (counts[:, None] * means).sum(0) / total
            m2 = (m2s + counts[:, None] * (means - mean) ** 2).sum(0)
            mean, m2 = mean.astype(x.dtype), m2.astype(x.dtype)
        else:
            total, mean, m2 = n, mean_l, m2_l
        if total <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got "
                             f"{int(total)} over all ranks (input of shape {tuple(x.shape)})")
        dt = x.dtype.type
        var = m2 / dt(total)
        invstd = 1 / np.sqrt(var + dt(eps))
        xhat = (x - mean.reshape(bs)) * invstd.reshape(bs)
        y = xhat if w is None else xhat * w.reshape(bs)
        if b is not None:
            y = y + b.reshape(bs)
        if running_mean is not None:
            mom = dt(momentum)
            running_mean *= 1 - mom
            running_mean += mom * mean
            running_var *= 1 - mom
            running_var += mom * (m2 / dt(total - 1)).astype(running_var.dtype)
        self.xhat, self.invstd, self.w, self.comm, self.total = xhat, invstd, w, comm, total
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        xhat, axes, bs = self.xhat, _axes(gy), _bshape(gy)
        sum_dy = gy.sum(axis=axes)
        sum_dy_xhat = (gy * xhat).sum(axis=axes)
        gw = sum_dy_xhat if self.w is not None else None
        gb = sum_dy if self.needs_input_grad[2] else None
        gx = None
        if self.needs_input_grad[0]:
            comm = self.comm
            if comm is not None and comm.Get_size() > 1:
                both = np.concatenate([sum_dy, sum_dy_xhat])
                _c.wait(comm.Iallreduce(_pg._mpi().IN_PLACE, both), "SyncBatchNorm backward")
                g_dy, g_dy_xhat = both[:sum_dy.size], both[sum_dy.size:]
            else:
                g_dy, g_dy_xhat = sum_dy, sum_dy_xhat
            dt = gy.dtype.type
            scale = self.invstd if self.w is None else self.w * self.invstd
            gx = (gy - (g_dy / dt(self.total)).reshape(bs)
                  - xhat * (g_dy_xhat / dt(self.total)).reshape(bs)) * scale.reshape(bs)
        return gx, gw, gb


class SyncBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics span every rank's batch (as
    ``torch.nn.SyncBatchNorm``); inputs (N, C, *).  Convert a model's
    BatchNorm layers with ``SyncBatchNorm.convert_sync_batchnorm(model)``."""
    _dims = (2, 3, 4, 5)
    _want = "(N, C, *)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input):
        self._check(input)
        comm = _sync_comm()
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        if not bn_training or comm is None:
            return super().forward(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        track = self.training and self.track_running_stats
        if track and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                eaf = 1.0 / float(self.num_batches_tracked._data)
        rm = self.running_mean._data if track and self.running_mean is not None else None
        rv = self.running_var._data if track and self.running_var is not None else None
        return SyncBatchNormFn.apply(input, self.weight, self.bias, comm, rm, rv, eaf, self.eps)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm1d/2d in ``module`` by a SyncBatchNorm with the
        same parameters and buffers (returns the converted module)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.train(module.training)
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _sync_comm():
    """The communicator SyncBatchNorm uses (its own, so its messages never mix
    with user collectives), or None outside a multi-rank process group."""
    st = _pg.state
    if st.comm is None or st.size == 1:
        return None
    return _pg.aux_comm("sync_batchnorm")

