"""``dalam.nn.parallel``: ``DistributedDataParallel`` (built in ``dalam.distributed``)."""


def __getattr__(name):
    if name in ("DistributedDataParallel", "DDP"):
        from ...distributed.ddp import DistributedDataParallel
        return DistributedDataParallel
    raise AttributeError(f"module 'dalam.nn.parallel' has no attribute {name!r}")


__all__ = ["DistributedDataParallel"]
