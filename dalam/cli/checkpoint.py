"""What makes a CLI checkpoint self-describing, and rebuilding a model from one.

``dalam train`` writes ``dalam.json`` into the checkpoint directory beside
the training checkpoints of ``dalam.train.ModelCheckpoint``:
``{"format", "task", "model": {"name", "args"}, "dataset", "preprocess"}``
(the model's full constructor arguments, the dataset section of the config,
and the preprocessing: image size/mean/std/classes or the character
vocabulary).  ``dalam export --safetensors`` writes the same record into the
header of a single ``.safetensors`` weights file.  Either is enough for eval,
predict, generate and export to rebuild the model without the config."""
import json
import pathlib

from .main import CLIError

FORMAT = "dalam.cli/1"
META_FILE = "dalam.json"
META_KEY = "dalam.cli"


def make_meta(cfg, model_args, preprocess):
    return {"format": FORMAT, "task": cfg["task"],
            "model": {"name": cfg["model"]["name"], "args": model_args},
            "dataset": cfg["dataset"], "preprocess": preprocess,
            "train": {k: v for k, v in cfg["train"].items() if k in ("epochs", "batch_size", "seed")},
            "optimizer": cfg.get("optimizer"), "schedule": cfg.get("schedule")}


def write_meta(directory, meta):
    from ..io import atomic_write
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write(d / META_FILE, json.dumps(meta, indent=1))


def read_meta_file(path):
    try:
        meta = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise CLIError(f"cannot read {path}: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CLIError(f"{path} is not a dalam CLI record (format "
                       f"{meta.get('format') if isinstance(meta, dict) else type(meta).__name__!r})")
    return meta


def locate(path, which="last"):
    """(metadata, weights file) for a checkpoint directory, a checkpoint
    folder inside one, or a single .safetensors file."""
    p = pathlib.Path(path)
    if not p.exists():
        raise CLIError(f"no such checkpoint: {p}")
    if p.is_file():
        if p.suffix != ".safetensors":
            raise CLIError(f"{p} is not a checkpoint: give a directory written by 'dalam train' or a "
                           ".safetensors file written by 'dalam export --safetensors'")
        from ..io import read_safetensors
        try:
            _, header = read_safetensors(p)
        except RuntimeError as e:
            raise CLIError(str(e)) from None
        if not header or META_KEY not in header:
            raise CLIError(f"{p} holds weights but no dalam CLI metadata (model name and arguments); "
                           "write it with 'dalam export CHECKPOINT --safetensors FILE'")
        try:
            meta = json.loads(header[META_KEY])
            if not isinstance(meta, dict) or not isinstance(meta.get("model"), dict):
                raise ValueError("not a table with a 'model' entry")
        except (ValueError, RecursionError) as e:
            raise CLIError(f"{p}: the dalam CLI metadata in the header is damaged ({e})") from None
        return meta, p
    meta_path = next((q / META_FILE for q in (p, p.parent) if (q / META_FILE).is_file()), None)
    if meta_path is None:
        raise CLIError(f"{p} is not a 'dalam train' checkpoint directory (no {META_FILE} in it)")
    meta = read_meta_file(meta_path)
    from ..train.checkpoint import POINTER, find_checkpoint
    folder = None
    if which == "best" and (p / POINTER).is_file():
        try:
            best = json.loads((p / POINTER).read_text()).get("best")
        except (ValueError, AttributeError, RecursionError, OSError):
            best = None  # a damaged pointer: fall back to the newest good checkpoint
        if isinstance(best, str) and (p / best).is_dir():
            folder = p / best
    folder = folder or find_checkpoint(p, verify=True)
    if folder is None or not (folder / "model.safetensors").is_file():
        raise CLIError(f"{p} holds no saved weights yet (no complete checkpoint folder): train first")
    return meta, folder / "model.safetensors"


def load_model(path, which="last"):
    """(model in eval mode, metadata, weights path)."""
    from ..io import load
    from .registry import build_model
    meta, weights = locate(path, which)
    model = build_model(meta["model"]["name"], meta["model"]["args"])
    try:
        sd = load(weights)
    except (RuntimeError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    try:
        model.load_state_dict(sd)
    except (RuntimeError, KeyError) as e:
        raise CLIError(f"{weights} does not fit model '{meta['model']['name']}' built from the "
                       f"metadata: {e}") from None
    model.eval()
    return model, meta, weights


def save_single_file(path, model, meta):
    """One .safetensors file: the weights plus the metadata in its header."""
    from ..io import save
    save(model.state_dict(), path, metadata={META_KEY: json.dumps(meta)})
