"""The process group: one MPI job, PyTorch's names.

``init_process_group(backend="mpi")`` reads the rank and the world size from
the MPI launcher (``dalam launch`` or ``mpiexec``; MPICH's Hydra, Open MPI and
Slurm are recognised), makes the ranks fail together (an uncaught exception on
one rank aborts the whole job with a message naming that rank, instead of
leaving the others blocked in a collective), and keeps the timeout that every
collective honours.  mpi4py is imported here, on first use, never at
``import dalam``.
"""
import datetime
import os
import sys
import traceback

_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                  "HYDRA_CONTROL_FD", "PMI_FD", "PMI_PORT")
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default for its CPU backends


class _State:
    comm = None         # the world communicator (a duplicate of COMM_WORLD)
    rank = 0
    size = 1
    timeout = DEFAULT_TIMEOUT.total_seconds()
    hook_installed = False
    prev_excepthook = None
    aux = {}            # name -> a communicator of its own (SyncBatchNorm, ...)


state = _State()


def _mpi():
    """mpi4py's MPI module, with a clear error when it is not installed."""
    try:
        import mpi4py
    except ImportError:
        raise ImportError("dalam.distributed needs mpi4py and an MPI library: pip install "
                          "'dalam[distributed]' (mpi4py + the MPICH wheel, which brings mpiexec)") from None
    mpi4py.rc.finalize = True
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as e:
        raise ImportError(f"dalam.distributed: mpi4py found no usable MPI library ({e}); pip install "
                          "mpich (the MPICH wheel) next to mpi4py") from None
    return MPI


def is_available():
    """True when mpi4py (and an MPI library) can be imported."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def is_mpi_available():
    return is_available()


def launched_by_mpi():
    """Was this process started by an MPI launcher (it set its rank variables)?"""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def _seconds(timeout):
    if timeout is None:
        env = os.environ.get("DALAM_DIST_TIMEOUT")
        return float(env) if env else DEFAULT_TIMEOUT.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's process group.  ``backend``: ``"mpi"`` (the only one).
    Rank and world size come from the launcher; ``world_size``/``rank``, when
    given, are checked against it.  Without a launcher, only
    ``world_size=1`` is accepted (a single process, useful for debugging).
    ``timeout`` (a ``timedelta`` or seconds; default 30 min, or
    ``$DALAM_DIST_TIMEOUT`` seconds): how long a collective waits for the
    other ranks before raising."""
    if backend is None:
        backend = "mpi"
    if str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not available; dalam.distributed "
                         "runs on MPI: use backend='mpi' (start the script with `dalam launch -n N`)")
    if state.comm is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized; "
                           "call destroy_process_group() first")
    if not launched_by_mpi() and world_size != 1:
        raise RuntimeError(
            "init_process_group(backend='mpi'): this process was not started by an MPI launcher (no "
            "PMI_RANK/PMI_SIZE or OMPI_COMM_WORLD_* in the environment), so there are no other ranks to "
            "join. Start it with `dalam launch -n 2 script.py` (or `mpiexec -n 2 python script.py`), "
            "or pass world_size=1, rank=0 to run a single process.")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    if world_size not in (-1, None) and world_size != world.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but the launcher started "
                         f"{world.Get_size()} processes; drop world_size= or launch with -n {world_size}")
    if rank not in (-1, None) and rank != world.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but the launcher gave this process rank "
                         f"{world.Get_rank()}; drop rank= (it comes from the launcher)")
    state.comm = world.Dup()
    state.rank, state.size = world.Get_rank(), world.Get_size()
    state.timeout = _seconds(timeout)
    _note_pid()
    if state.size > 1:
        _install_excepthook()


def _note_pid():
    """Leave rank -> pid for ``dalam launch``, so that its error names the rank that died."""
    d = os.environ.get("DALAM_LAUNCH_DIR")
    if not d:
        return
    try:
        import socket
        with open(os.path.join(d, f"rank{state.rank}.pid"), "w") as f:
            f.write(f"{os.getpid()} {socket.gethostname()}\n")
    except OSError:
        pass


def _install_excepthook():
    if state.hook_installed:
        return
    state.prev_excepthook = sys.excepthook

    def hook(etype, value, tb):
        if state.comm is None or issubclass(etype, KeyboardInterrupt):
            return state.prev_excepthook(etype, value, tb)
        text = "".join(traceback.format_exception(etype, value, tb))
        sys.stderr.write("".join(f"[rank {state.rank}] {line}\n" for line in text.rstrip().splitlines()))
        sys.stderr.write(f"dalam.distributed: rank {state.rank} of {state.size} raised {etype.__name__}: "
                         f"{value}; stopping every rank (MPI_Abort)\n")
        sys.stderr.flush()
        abort(1)

    sys.excepthook = hook
    state.hook_installed = True


def abort(code=1):
    """End every rank of the job now (MPI_Abort)."""
    MPI = _mpi()
    MPI.COMM_WORLD.Abort(code)


def destroy_process_group(group=None):
    """Leave the process group (the collectives raise afterwards)."""
    if state.comm is None:
        return
    for c in [state.comm] + list(state.aux.values()):
        try:
            c.Free()
        except Exception:  # an MPI already finalised at exit
            pass
    state.comm = None
    state.aux = {}
    state.rank, state.size = 0, 1
    if state.hook_installed:
        sys.excepthook = state.prev_excepthook
        state.hook_installed = False


def is_initialized():
    return state.comm is not None


class group:
    """``dist.group.WORLD``: the one process group there is (every rank)."""
    WORLD = None


def _require(what, grp=None):
    if grp is not None:
        raise ValueError(f"{what}: dalam.distributed has one process group, the world; pass group=None "
                         "(or dist.group.WORLD)")
    if state.comm is None:
        raise ValueError(f"{what}: default process group has not been initialized, please make sure to "
                         "call init_process_group (and start the script with `dalam launch -n N`)")
    return state.comm


def get_rank(group=None):
    """This process's rank (0 .. world_size - 1)."""
    _require("get_rank", group)
    return state.rank


def get_world_size(group=None):
    """The number of processes in the job."""
    _require("get_world_size", group)
    return state.size


def get_backend(group=None):
    _require("get_backend", group)
    return "mpi"


def aux_comm(name):
    """A duplicate of the world communicator kept for one internal user, so its
    messages never match another's (made on first use: every rank must reach
    that first use, as with any collective)."""
    c = state.aux.get(name)
    if c is None:
        c = state.aux[name] = _require(name).Dup()
    return c


def get_comm():
    """The job's mpi4py communicator, for code that wants MPI directly."""
    return _require("get_comm")
