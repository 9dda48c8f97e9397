"""Export a checkpoint: to ONNX (for onnxruntime and other runtimes) and/or
to one self-describing .safetensors file (the weights, with the model name,
arguments and preprocessing in its header; eval/predict/generate accept it).

    dalam export runs/mnist_cnn --onnx mnist_cnn.onnx
    dalam export runs/char_lstm --safetensors char_lstm.safetensors

ONNX export is dalam.onnx.export(model, example_input, path) on an example
input of the training shape (batch 1)."""
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory (or .safetensors file)")
    p.add_argument("--onnx", metavar="PATH", help="write an ONNX model here")
    p.add_argument("--safetensors", metavar="PATH", help="write the weights + metadata as one file here")
    p.add_argument("--best", action="store_true", help="use the best checkpoint instead of the last")


def example_input(meta):
    from ..tensor import Tensor
    pre = meta["preprocess"]
    if pre["kind"] == "image":
        return Tensor._make(np.zeros((1, pre["channels"], pre["height"], pre["width"]), np.float32),
                            False, None)
    T = int(meta["model"]["args"].get("block_size") or pre.get("block_size", 16))
    return Tensor._make(np.zeros((1, T), np.int64), False, None)


def run(args):
    from .checkpoint import load_model, save_single_file
    if not args.onnx and not args.safetensors:
        raise CLIError("nothing to do: give --onnx PATH and/or --safetensors PATH")
    model, meta, _ = load_model(args.checkpoint, "best" if args.best else "last")
    if args.safetensors:
        save_single_file(args.safetensors, model, meta)
        print(f"wrote {args.safetensors}", file=sys.stderr)
    if args.onnx:
        import importlib.util
        if importlib.util.find_spec("dalam.onnx") is None:
            raise CLIError("ONNX export is not available in this dalam version (no dalam.onnx module)")
        from .. import onnx as donnx
        try:
            donnx.export(model, example_input(meta), args.onnx)
        except ImportError as e:
            raise CLIError(f"ONNX export needs the onnx package: {e}") from None
        print(f"wrote {args.onnx}", file=sys.stderr)
    return 0
