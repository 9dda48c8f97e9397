"""Run a script as ``python SCRIPT.py ARGS...`` would, with ``import torch`` answered
by dalam: same ``sys.argv``, ``sys.path[0]``, ``__name__ == "__main__"``, exit
status and tracebacks.  Errors that mean "PyTorch feature not available here"
(an unsupported API, ``.to("cuda")``, a whole-model ``torch.save``) print one
line naming the script line instead of a traceback."""
import os
import runpy
import sys
import traceback

from .errors import is_one_line_error

USAGE = "usage: dalam run [--debug] SCRIPT.py [ARGS...]"


def _script_frame(tb, script):
    """The last traceback entry in the script itself (where the user's line is)."""
    found = None
    for fs in traceback.extract_tb(tb):
        if os.path.abspath(fs.filename) == script:
            found = fs
    return found


def _trim(tb, script):
    """Drop the runner's own frames, so the traceback starts at the script (as python's);
    None when the script has no frame (a SyntaxError: python prints no stack then)."""
    t = tb
    while t is not None and os.path.abspath(t.tb_frame.f_code.co_filename) != script:
        t = t.tb_next
    return t


def run_path(path, args=(), debug=False, prog="dalam run"):
    """Run the script at ``path`` with ``args``; returns the exit status (a
    ``sys.exit`` inside the script propagates as SystemExit, as in python)."""
    from .hook import install
    if not os.path.isfile(path):
        print(f"{prog}: error: can't open file {path!r}: no such file", file=sys.stderr)
        return 2
    script = os.path.abspath(path)
    install()
    sys.argv = [path, *args]
    sys.path[0:1] = [os.path.dirname(script)] if sys.path else [os.path.dirname(script)]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902 -- everything the interpreter would report
        tb = e.__traceback__
        if is_one_line_error(e) and not debug:
            fs = _script_frame(tb, script)
            where = f"{os.path.basename(script)}:{fs.lineno}: " if fs else ""
            msg = " ".join(str(e).split())
            print(f"{prog}: error: {where}{msg} (--debug shows the traceback)", file=sys.stderr)
            return 1
        traceback.print_exception(type(e), e, _trim(tb, script))
        sys.stderr.flush()
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0


def main(argv=None, prog="python -m dalam.compat"):
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = False
    while argv and argv[0] in ("--debug", "-h", "--help"):
        if argv[0] == "--debug":
            debug = True
            argv.pop(0)
        else:
            print(USAGE.replace("dalam run", prog))
            return 0
    if not argv:
        print(USAGE.replace("dalam run", prog), file=sys.stderr)
        return 2
    return run_path(argv[0], argv[1:], debug=debug, prog=prog)
