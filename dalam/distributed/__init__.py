"""``dalam.distributed``: data-parallel training over MPI, with PyTorch's names.

    import dalam.distributed as dist
    dist.init_process_group("mpi")           # rank and size from `dalam launch -n N`
    model = dalam.nn.parallel.DistributedDataParallel(model)
    sampler = dalam.data.DistributedSampler(dataset)

Communication is MPI's (mpi4py on the MPICH wheel: ``pip install
'dalam[distributed]'``), imported on first use.  Layout: ``process_group``
(init, rank, size, fail-together), ``collectives`` (all_reduce, broadcast,
all_gather, reduce_scatter, barrier), ``ddp`` (DistributedDataParallel),
``sync_batchnorm``, ``launch`` (what ``dalam launch`` runs).
"""
from .process_group import (init_process_group, destroy_process_group, is_initialized,  # noqa: F401
                            is_available, is_mpi_available, get_rank, get_world_size, get_backend,
                            get_comm, abort, launched_by_mpi, group)
from .collectives import (ReduceOp, Work, all_reduce, broadcast, all_gather,  # noqa: F401
                          all_gather_into_tensor, reduce_scatter, reduce_scatter_tensor, barrier,
                          all_gather_object, broadcast_object_list)


def __getattr__(name):
    # the parts that import dalam.nn load on first use
    if name == "DistributedDataParallel":
        from .ddp import DistributedDataParallel
        return DistributedDataParallel
    if name == "SyncBatchNorm":
        from .sync_batchnorm import SyncBatchNorm
        return SyncBatchNorm
    if name == "DistributedSampler":
        from ..data.distributed import DistributedSampler
        return DistributedSampler
    raise AttributeError(f"module 'dalam.distributed' has no attribute {name!r}")
