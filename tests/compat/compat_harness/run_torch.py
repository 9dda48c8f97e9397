"""The reference run: every program on real PyTorch, in ONE process (importing
torch costs seconds; twenty imports would not fit the suite's time budget).

    python run_torch.py OUTDIR WORKROOT PROGRAM.py [PROGRAM.py ...]

Each program runs as ``python PROGRAM.py`` would (``__main__``, its own
``sys.argv`` and working directory WORKROOT/NAME), with PyTorch's random
numbers routed through dalam's generator (rng_bridge.py).  Its stdout goes to
OUTDIR/NAME.out, its exit status to OUTDIR/NAME.rc (written last: the test
waits for it), a traceback to OUTDIR/NAME.err."""
import contextlib
import io
import os
import runpy
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def main(outdir, workroot, programs):
    try:
        import torchvision  # noqa: F401
    except ImportError:  # its PyPI wheel needs a CUDA build of torch; see README
        sys.path.insert(0, os.path.join(HERE, "torchvision_stub"))
    import torch
    sys.path.insert(0, HERE)
    import rng_bridge
    rng_bridge.install(torch)
    torch.set_num_threads(1)
    import dalam.backend
    saved_path = list(sys.path)
    for prog in programs:
        name = os.path.splitext(os.path.basename(prog))[0]
        work = os.path.join(workroot, name)
        os.makedirs(work, exist_ok=True)
        os.chdir(work)
        sys.argv = [prog]
        sys.path[:] = [os.path.dirname(os.path.abspath(prog))] + saved_path
        dalam.backend._rng, dalam.backend._seed = None, 0  # as in a fresh process
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        out, err, rc = io.StringIO(), "", 0
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(prog, run_name="__main__")
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: B902
            rc, err = 1, traceback.format_exc()
        with open(os.path.join(outdir, name + ".out"), "w") as f:
            f.write(out.getvalue())
        with open(os.path.join(outdir, name + ".err"), "w") as f:
            f.write(err)
        with open(os.path.join(outdir, name + ".rc.tmp"), "w") as f:
            f.write(str(rc))
        os.replace(os.path.join(outdir, name + ".rc.tmp"), os.path.join(outdir, name + ".rc"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
