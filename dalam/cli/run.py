"""Run an unmodified PyTorch script on dalam: ``import torch`` (torch.nn,
torch.optim, torch.utils.data, torch.distributions, torchvision's MNIST parts...)
is answered by dalam for this process only.  The script sees its own arguments
in sys.argv and runs as ``__main__``; exit status and tracebacks are python's.
What dalam does not support stops the script with one line naming the PyTorch
API (see docs/coming_from_pytorch.md).

  dalam run train.py --epochs 3
"""
import argparse


def add_arguments(p):
    p.add_argument("script", help="the PyTorch script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")


def run(args):
    from ..compat.runner import run_path
    return run_path(args.script, args.args, debug=getattr(args, "debug", False))
