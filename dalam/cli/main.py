"""Argument parsing and error reporting for the ``dalam`` command.

Errors a user can cause (a missing file, a typo in a config, an image of the
wrong size) end as ONE line on stderr and exit status 1; ``--debug`` shows
the traceback instead.  Each subcommand is a module with ``add_arguments(p)``
and ``run(args)``, imported only when its command runs."""
import argparse
import importlib
import sys


class CLIError(Exception):
    """An error for the user: printed as one line, no traceback."""


# command -> (module, one-line help)
COMMANDS = {
    "train": ("train", "train a model from a TOML config (resumable)"),
    "eval": ("evaluate", "evaluate a checkpoint on its dataset's test split"),
    "predict": ("predict", "classify image files (or continue text) with a checkpoint"),
    "summary": ("summarize", "layer table: output shapes, parameters, mult-adds, memory"),
    "generate": ("generate", "sample text from a char-RNN or GPT checkpoint"),
    "embed": ("embed", "MiniLM sentence embeddings to .npy / .json"),
    "bench": ("bench", "benchmark workloads against PyTorch, as a ratio table"),
    "export": ("export", "export a checkpoint to ONNX or to one .safetensors file"),
    "launch": ("launch", "run a script on N processes (data parallel over MPI)"),
    "run": ("run", "run an unmodified PyTorch script on dalam (import torch -> dalam)"),
    "transcribe": ("transcribe", "transcribe spoken digits in audio files with a speech run folder"),
    "recommend": ("recommend", "top-N movies for a MovieLens user from a recommender run"),
    "rl": ("rl", "reinforcement learning: train / eval / video / plot gymnasium agents"),
    "playground": ("playground", "open the browser playground: build, train and look inside a network"),
}


def _debug_parent():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback on errors")
    return p


def build_parser(load=None):
    """The parser; ``load``: the one command whose arguments to add (all when None)."""
    parent = _debug_parent()
    ap = argparse.ArgumentParser(
        prog="dalam", parents=[parent],
        description="dalam: deep learning on NumPy.  'dalam COMMAND --help' for a command's options.",
        epilog="Errors print one line; add --debug for the traceback.")
    ap.add_argument("--version", action="version", version=_version())
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        mod = importlib.import_module(f".{module}", __package__) if load in (None, name) else None
        desc = (mod.__doc__ or help_).strip() if mod else help_
        p = sub.add_parser(name, help=help_, description=desc, parents=[parent],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if mod is not None:
            mod.add_arguments(p)
    return ap


def _version():
    from .. import __version__
    return f"dalam {__version__}"


def _one_line(e):
    msg = str(e).strip() or type(e).__name__
    if isinstance(e, KeyError) and msg.startswith(("'", '"')) and msg.endswith(("'", '"')):
        msg = msg[1:-1]  # KeyError quotes its message
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    return "; ".join(lines)


def main(argv=None):
    """Entry point of the console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # build only the chosen command's arguments: importing every command is not needed for one
    chosen = next((a for a in argv if not a.startswith("-")), None)
    ap = build_parser(chosen if chosen in COMMANDS else None)
    args = ap.parse_args(argv)
    debug = getattr(args, "debug", False)
    if args.command is None:
        ap.print_help()
        return 2
    module = importlib.import_module(f".{COMMANDS[args.command][0]}", __package__)
    try:
        rc = module.run(args)
        return 0 if rc is None else int(rc)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"dalam {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `dalam generate ... | head`
        return 0
    except Exception as e:  # every error reaches the user as one line unless --debug
        if debug:
            raise
        kind = "" if isinstance(e, CLIError) else f"{type(e).__name__}: "
        print(f"dalam {args.command}: error: {kind}{_one_line(e)}", file=sys.stderr)
        return 1
