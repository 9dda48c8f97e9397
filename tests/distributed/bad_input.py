"""Wrong use under `mpiexec -n 2` must end in a clear error, not a hang.

    bad_input.py shapes     rank 1 builds a wider model than rank 0 -> DDP raises naming the tensor
    bad_input.py sizes      rank 1 all_reduces 12 elements, rank 0 10 -> RuntimeError on both ranks
    bad_input.py kinds      rank 0 calls all_reduce, rank 1 broadcast -> RuntimeError on both ranks
    bad_input.py unused     a parameter gets no gradient without find_unused_parameters -> RuntimeError
Each rank prints `CAUGHT <message>` and exits 0, so the test sees every rank got the error.
    bad_input.py stuck      (DALAM_DIST_TIMEOUT=2) rank 1 never joins rank 0's all_reduce: rank 0 times
                            out, the error is uncaught, and the job stops with rank 0 named"""
import sys
import time

import dalam
import dalam.distributed as dist
import dalam.nn as nn
from dalam.nn.parallel import DistributedDataParallel as DDP


def case(name, rank):
    if name == "shapes":
        DDP(nn.Sequential(nn.Linear(4, 8 + rank), nn.ReLU(), nn.Linear(8 + rank, 2)))
    elif name == "sizes":
        dist.all_reduce(dalam.ones(10 + 2 * rank))
    elif name == "kinds":
        if rank == 0:
            dist.all_reduce(dalam.ones(4))
        else:
            dist.broadcast(dalam.ones(4), src=0)
    elif name == "stuck":
        if rank == 0:
            dist.all_reduce(dalam.ones(3))
        else:
            time.sleep(120)
    elif name == "unused":
        class TwoHeads(nn.Module):
            def __init__(self):
                super().__init__()
                self.a, self.b = nn.Linear(3, 2), nn.Linear(3, 2)

            def forward(self, x):
                return self.a(x)
        DDP(TwoHeads())(dalam.randn(4, 3)).sum().backward()


def main():
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    if sys.argv[1] == "stuck":
        return case("stuck", rank)
    try:
        case(sys.argv[1], rank)
    except RuntimeError as e:
        print(f"CAUGHT rank {rank}: {e}", flush=True)
        return 0
    print(f"rank {rank}: no error raised", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
