"""Training configs: a TOML file read with the standard library's ``tomllib``.

    [dataset]   name = "mnist"   subset = true   limit = 2000
    [model]     name = "lenet5"  (other keys: the model's constructor arguments)
    [optimizer] name = "adam"    lr = 1e-3       (other keys: the optimiser's)
    [schedule]  name = "cosine"                  (optional; other keys: the schedule's)
    [train]     epochs = 5  batch_size = 64  checkpoint_dir = "runs/mnist_lenet5"

Every key is checked: an unknown one is an error that names the section and
the key, suggests the closest allowed key (difflib) and lists the allowed
ones.  Relative paths are relative to the current directory."""
import difflib
import pathlib

from .main import CLIError

DATASETS = {
    # name -> (task, allowed keys with defaults)
    "mnist": ("image", {"subset": False, "root": None, "download": True, "limit": None,
                        "val_limit": None, "val_split": 0.1}),
    "fashion-mnist": ("image", {"root": None, "download": True, "limit": None, "val_limit": None,
                                "val_split": 0.1}),
    "tinyshakespeare": ("chars", {"root": None, "download": True, "block_size": 64, "limit": None,
                                  "val_limit": None}),
    "text": ("chars", {"path": None, "block_size": 64, "val_fraction": 0.1, "limit": None,
                       "val_limit": None}),
}
DATASET_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
                   "shakespeare": "tinyshakespeare", "tiny_shakespeare": "tinyshakespeare"}

TRAIN_KEYS = {"epochs": 1, "batch_size": 64, "checkpoint_dir": None, "seed": 0, "max_grad_norm": None,
              "save_every": "epoch", "keep_last": 2, "log_dir": None, "verbose": 1, "validate": True,
              "monitor": "val_loss"}
SECTIONS = ("dataset", "model", "optimizer", "schedule", "train")
SECTION_ALIASES = {"optimiser": "optimizer", "data": "dataset", "scheduler": "schedule"}


_SYNONYMS = {"learning_rate": "lr", "num_epochs": "epochs", "n_epochs": "epochs", "batchsize": "batch_size",
             "optimiser": "optimizer", "scheduler": "schedule", "data": "dataset"}


def suggest(word, choices):
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    syn = _SYNONYMS.get(str(word).lower())
    if syn in choices:
        return f" (did you mean '{syn}'?)"
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(given, allowed, section, what):
    """Refuse keys of ``given`` not in ``allowed``, naming the section and key."""
    for k in given:
        if k not in allowed:
            raise CLIError(f"{section} {k}: unknown key for {what}{suggest(k, allowed)}; allowed keys: "
                           f"{', '.join(sorted(allowed)) or '(none)'}")


def _type_check(section, key, value, default):
    """The obvious type mistakes (a string for a number...), by the default's type."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise CLIError(f"{section} {key}: expected true or false, got {value!r}")
    elif isinstance(default, int) and not (isinstance(default, bool)):
        if isinstance(value, bool) or not isinstance(value, int):
            if key == "save_every" and value == "epoch":
                return value
            raise CLIError(f"{section} {key}: expected an integer, got {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CLIError(f"{section} {key}: expected a number, got {value!r}")
    return value


def toml_module():
    """tomllib (Python >= 3.11) or its backport tomli."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise CLIError("reading TOML on Python < 3.11 needs tomli: pip install tomli") from None
    return tomllib


def read_toml(path):
    tomllib = toml_module()
    p = pathlib.Path(path)
    if not p.is_file():
        raise CLIError(f"config file not found: {p}")
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise CLIError(f"{p}: not valid TOML: {e}") from None


def canonical_dataset(name):
    n = str(name).lower()
    n = DATASET_ALIASES.get(n, n)
    if n not in DATASETS:
        raise CLIError(f"[dataset] name: unknown dataset {name!r}{suggest(n, DATASETS)}; "
                       f"allowed: {', '.join(DATASETS)}")
    return n


def load_config(path, overrides=None):
    """The validated config: a dict of the five sections with defaults filled in."""
    raw = read_toml(path)
    cfg = {}
    for sec, body in raw.items():
        name = SECTION_ALIASES.get(sec, sec)
        if name not in SECTIONS:
            raise CLIError(f"[{sec}]: unknown section{suggest(sec, SECTIONS)}; allowed sections: "
                           f"{', '.join('[' + s + ']' for s in SECTIONS)}")
        if not isinstance(body, dict):
            raise CLIError(f"{sec}: expected a [{name}] table, got a value ({body!r})")
        cfg[name] = dict(body)
    for sec in ("dataset", "model"):
        if sec not in cfg:
            raise CLIError(f"[{sec}]: missing section (a config names at least [dataset] and [model])")
        if "name" not in cfg[sec]:
            raise CLIError(f"[{sec}] name: missing key")
    # dataset
    ds = cfg["dataset"]
    ds_name = canonical_dataset(ds.pop("name"))
    task, allowed = DATASETS[ds_name]
    check_keys(ds, allowed, "[dataset]", f"dataset '{ds_name}'")
    for k, v in ds.items():
        _type_check("[dataset]", k, v, allowed[k])
    cfg["dataset"] = {"name": ds_name, **{**allowed, **ds}}
    vs = cfg["dataset"].get("val_split")
    if vs is not None and not (0 <= vs < 1):
        raise CLIError(f"[dataset] val_split: the share of the training data held out for validation, "
                       f"in [0, 1), got {vs!r}")
    if ds_name == "text" and not cfg["dataset"]["path"]:
        raise CLIError("[dataset] path: missing key (the text file to train on)")
    # model: task must fit the dataset
    from .registry import canonical_model, model_task
    m_name = canonical_model(cfg["model"]["name"])
    if model_task(m_name) != task:
        kinds = {"image": "image classification", "chars": "character language modelling"}
        raise CLIError(f"[model] name: '{m_name}' is a {kinds[model_task(m_name)]} model but dataset "
                       f"'{ds_name}' is for {kinds[task]}")
    cfg["model"]["name"] = m_name
    from .registry import check_model_keys, optimizer_spec, schedule_spec
    check_model_keys(m_name, {k: v for k, v in cfg["model"].items() if k != "name"})
    cfg.setdefault("optimizer", {"name": "adam", "lr": 1e-3})
    cfg.setdefault("schedule", {"name": "none"})
    optimizer_spec(cfg["optimizer"])  # checked now, before any data is loaded
    schedule_spec(cfg["schedule"])
    tr = cfg.setdefault("train", {})
    check_keys(tr, TRAIN_KEYS, "[train]", "training")
    for k, v in tr.items():
        _type_check("[train]", k, v, TRAIN_KEYS[k])
    for k, v in (overrides or {}).items():
        if v is not None:
            tr[k] = v
    cfg["train"] = {**TRAIN_KEYS, **tr}
    tr = cfg["train"]
    for k in ("epochs", "batch_size"):
        if not isinstance(tr[k], int) or tr[k] < (0 if k == "epochs" else 1):
            raise CLIError(f"[train] {k}: expected a positive integer, got {tr[k]!r}")
    if tr["save_every"] != "epoch" and not (isinstance(tr["save_every"], int) and tr["save_every"] > 0):
        raise CLIError(f"[train] save_every: 'epoch' or a positive number of steps, got {tr['save_every']!r}")
    if not tr["checkpoint_dir"]:
        tr["checkpoint_dir"] = str(pathlib.Path("runs") / pathlib.Path(path).stem)
    cfg["task"] = task
    return cfg
