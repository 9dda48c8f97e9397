"""Export a checkpoint: to ONNX (for onnxruntime and other runtimes) and/or
to one self-describing .safetensors file (the weights, with the model name,
arguments and preprocessing in its header; eval/predict/generate accept it).

    dalam export runs/mnist_cnn --onnx mnist_cnn.onnx
    dalam export runs/char_lstm --safetensors char_lstm.safetensors

ONNX export is dalam.onnx.export(model, example_input, path) on an example
input of the training shape; the batch dimension is dynamic (any batch size
runs in onnxruntime) unless --static-batch fixes it at 1."""
import sys

import numpy as np

from .main import CLIError


def add_arguments(p):
    p.add_argument("checkpoint", help="checkpoint directory (or .safetensors file)")
    p.add_argument("--onnx", metavar="PATH", help="write an ONNX model here")
    p.add_argument("--safetensors", metavar="PATH", help="write the weights + metadata as one file here")
    p.add_argument("--best", action="store_true", help="use the best checkpoint instead of the last")
    batch = p.add_mutually_exclusive_group()
    batch.add_argument("--dynamic-batch", dest="dynamic_batch", action="store_true", default=True,
                       help="ONNX: any batch size (the default)")
    batch.add_argument("--static-batch", dest="dynamic_batch", action="store_false",
                       help="ONNX: batch size fixed at 1")


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
            x, axes = example_input(meta), None
            if args.dynamic_batch:  # the batch dimension of the input and of every output
                from ..autograd.grad_mode import no_grad
                model.eval()
                with no_grad():
                    out = model(x)
                n = len(out) if isinstance(out, (tuple, list)) else 1
                names = ["output"] if n == 1 else [f"output_{i}" for i in range(n)]
                axes = {name: {0: "batch"} for name in ["input", *names]}
            donnx.export(model, x, args.onnx, dynamic_axes=axes)
        except ImportError as e:
            raise CLIError(f"ONNX export needs the onnx package: {e}") from None
        print(f"wrote {args.onnx}", file=sys.stderr)
    return 0
