"""Run a training script on N processes (data parallel, over MPI).

    dalam launch -n 4 train.py --epochs 5          # 4 ranks on this machine
    dalam launch -n 8 --hostfile hosts train.py    # across machines (Hydra hostfile: host:slots)
    dalam launch -n 2 --max-restarts 1 train.py    # a failed job starts again from its last checkpoint

The script calls dalam.distributed.init_process_group("mpi") and wraps its
model in dalam.nn.parallel.DistributedDataParallel.  A thin wrapper over the
mpiexec of the mpich wheel: each rank gets cores/N BLAS threads (unless
OPENBLAS_NUM_THREADS is set); when a rank dies or raises, every rank stops and
the error names that rank."""
from .main import CLIError


def add_arguments(p):
    p.add_argument("-n", "--nproc", "--nproc-per-node", dest="nproc", type=int, default=2,
                   help="number of processes (ranks), default 2")
    p.add_argument("--hostfile", help="Hydra hostfile for several machines (one 'host:slots' per line)")
    p.add_argument("--max-restarts", type=int, default=0,
                   help="start a failed job again up to K times (scripts resume from their last checkpoint)")
    p.add_argument("--threads", type=int, help="BLAS threads per rank (default: cores / N)")
    p.add_argument("--label", action="store_true", help="prefix each output line with its rank")
    p.add_argument("-m", dest="module", action="store_true", help="run a module (python -m) instead of a file")
    p.add_argument("script", help="the Python script (or module, with -m) every rank runs")
    p.add_argument("args", nargs="...", help="arguments for the script")


def run(args):
    from ..distributed.launch import launch
    try:
        return launch(args.nproc, args.script, args.args, module=args.module, hostfile=args.hostfile,
                      max_restarts=args.max_restarts, threads=args.threads, label=args.label)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None
