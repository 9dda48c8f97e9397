"""Print a model's layer table: output shapes, parameter counts,
multiply-adds, totals and a memory estimate (as torchinfo does).

    dalam summary lenet5
    dalam summary gpt --arg n_layer=2 --arg n_embd=64
    dalam summary configs/mnist_cnn.toml
    dalam summary runs/mnist_cnn --json

MODEL is a model name (built with the defaults of an MNIST-sized input or a
65-character vocabulary), a TOML config, or a checkpoint."""
import json
import pathlib

from .main import CLIError


def add_arguments(p):
    from .registry import model_names
    p.add_argument("model", metavar="MODEL", help=f"a model name ({', '.join(model_names())}), a .toml "
                                                  "config or a checkpoint")
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                   help="a constructor argument for a model name (TOML value), repeatable")
    p.add_argument("--input-size", default=None, metavar="N,C,H,W",
                   help="input shape with the batch dimension (default: one example)")
    p.add_argument("--depth", type=int, default=3, help="nesting depth of the rows shown")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _parse_args(pairs):
    from .config import toml_module
    tomllib = toml_module()
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise CLIError(f"--arg {pair!r}: expected KEY=VALUE, e.g. --arg hidden_size=128")
        k, v = pair.split("=", 1)
        try:
            out[k.strip()] = tomllib.loads(f"v = {v}")["v"]
        except tomllib.TOMLDecodeError:
            out[k.strip()] = v  # a bare word: a string
    return out


def _resolve(spec, extra):
    """(model, preprocessing record) for a name, a config or a checkpoint."""
    from .registry import MODELS, ALIASES, build_model, model_args, model_task
    p = pathlib.Path(spec)
    key = spec.lower().replace("-", "_")
    if key in MODELS or key in ALIASES:
        task = model_task(key)
        if task == "image":
            info = {"in_channels": 1, "in_features": 784, "num_classes": 10, "input_size": 28}
            pre = {"kind": "image", "channels": 1, "height": 28, "width": 28}
        else:
            info = {"vocab_size": 65}
            pre = {"kind": "chars", "block_size": int(extra.get("block_size", 64))}
        args = model_args(key, extra, info)
        return build_model(key, args), pre
    if extra:
        raise CLIError("--arg applies to a model name only (a config or checkpoint fixes the arguments)")
    if p.suffix == ".toml":
        from .config import load_config
        from .data import load_splits
        cfg = load_config(p)
        if cfg["task"] == "image":
            # the shapes are known without loading the data
            ds = cfg["dataset"]["name"]
            info = {"in_channels": 1, "in_features": 784, "num_classes": 10, "input_size": 28}
            pre = {"kind": "image", "channels": 1, "height": 28, "width": 28, "dataset": ds}
        elif cfg["dataset"]["name"] == "tinyshakespeare":  # its 65 characters, without reading it
            info = {"vocab_size": 65}
            pre = {"kind": "chars", "block_size": int(cfg["dataset"]["block_size"])}
        else:
            _, _, info, pre = load_splits(dict(cfg["dataset"], limit=1, val_limit=1))
        user = {k: v for k, v in cfg["model"].items() if k != "name"}
        if cfg["model"]["name"] == "gpt":
            info = dict(info, block_size=user.pop("block_size", pre["block_size"]))
        return build_model(cfg["model"]["name"], model_args(cfg["model"]["name"], user, info)), pre
    if p.exists():
        from .checkpoint import load_model
        model, meta, _ = load_model(p)
        return model, meta["preprocess"]
    from .config import suggest
    raise CLIError(f"{spec!r} is not a model name{suggest(key, MODELS)}, a .toml config or an existing "
                   f"checkpoint; model names: {', '.join(sorted(MODELS))}")


def run(args):
    from .. import int64
    from ..utils.summary import summary
    model, pre = _resolve(args.model, _parse_args(args.arg))
    if args.input_size:
        try:
            size = tuple(int(s) for s in args.input_size.replace("x", ",").split(","))
        except ValueError:
            raise CLIError(f"--input-size {args.input_size!r}: expected integers like 1,1,28,28") from None
    elif pre["kind"] == "image":
        size = (1, pre["channels"], pre["height"], pre["width"])
    else:
        size = (1, int(getattr(getattr(model, "config", None), "block_size", pre.get("block_size", 64))))
    dtype = int64 if pre["kind"] == "chars" else None
    try:
        s = summary(model, size, dtype=dtype, depth=args.depth, verbose=0)
    except (RuntimeError, ValueError, IndexError) as e:
        raise CLIError(f"the model does not run on an input of shape {size}: {e}") from None
    print(json.dumps(s.to_dict()) if args.json else s)
    return 0
