"""Training configs: a TOML file read with the standard library's ``tomllib``.

    [dataset]   name = "mnist"   subset = true   limit = 2000
    [model]     name = "lenet5"  (other keys: the model's constructor arguments)
    [optimizer] name = "adam"    lr = 1e-3       (other keys: the optimiser's)
    [schedule]  name = "cosine"                  (optional; other keys: the schedule's)
    [train]     epochs = 5  batch_size = 64  checkpoint_dir = "runs/mnist_lenet5"

Every key is checked: an unknown one is an error that names the section and
the key, suggests the closest allowed key (difflib) and lists the allowed
ones.  Every value is checked against ``SCHEMA`` (type, range and meaning per
key; keys it does not list are checked by their default's type), before any
data is loaded; an error names the key, the value and what is allowed.
Relative paths are relative to the current directory."""
import difflib
import math
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


class Key:
    """What one config key may hold: ``kind`` (int, float, bool, str, int_list,
    pair, epoch_or_int), an inclusive/exclusive range, the allowed choices, and
    its meaning for the error message."""

    def __init__(self, kind, meaning, lo=None, hi=None, lo_open=False, hi_open=False, choices=None,
                 null=False):
        self.kind, self.meaning, self.lo, self.hi = kind, meaning, lo, hi
        self.lo_open, self.hi_open, self.choices, self.null = lo_open, hi_open, choices, null

    def allowed(self):
        rng = ""
        if self.lo is not None or self.hi is not None:
            lo = "" if self.lo is None else f"{self.lo} {'<' if self.lo_open else '<='} "
            hi = "" if self.hi is None else f" {'<' if self.hi_open else '<='} {self.hi}"
            rng = f" with {lo}x{hi}".replace("with  ", "with ")
        what = {"int": "an integer", "float": "a finite number", "bool": "true or false",
                "str": "a string", "int_list": "a list of integers", "pair": "a pair [a, b] of numbers",
                "epoch_or_int": "\"epoch\" or an integer"}[self.kind]
        if self.choices:
            what = "one of " + ", ".join(repr(c) for c in self.choices)
        return what + rng + (" (or leave it out)" if self.null else "")

    def _in_range(self, x):
        if self.lo is not None and (x < self.lo or (self.lo_open and x == self.lo)):
            return False
        if self.hi is not None and (x > self.hi or (self.hi_open and x == self.hi)):
            return False
        return True

    def check(self, section, key, v):
        bad = CLIError(f"{section} {key} = {v!r}: expected {self.allowed()} ({self.meaning})")
        if v is None:
            return v
        k = self.kind
        if self.choices is not None:
            if v not in self.choices:
                raise bad
            return v
        if k == "bool":
            if not isinstance(v, bool):
                raise bad
        elif k == "str":
            if not isinstance(v, str) or not v:
                raise bad
        elif k in ("int", "float", "epoch_or_int"):
            if k == "epoch_or_int" and v == "epoch":
                return v
            num = (int,) if k != "float" else (int, float)
            if isinstance(v, bool) or not isinstance(v, num) or not math.isfinite(v) or not self._in_range(v):
                raise bad
        elif k in ("int_list", "pair"):
            if not isinstance(v, list) or (k == "pair" and len(v) != 2) or (k == "int_list" and not v):
                raise bad
            num = (int,) if k == "int_list" else (int, float)
            if any(isinstance(x, bool) or not isinstance(x, num) or not math.isfinite(x)
                   or not self._in_range(x) for x in v):
                raise bad
        return v


_POS_INT = {"lo": 1}
_FRACTION = {"lo": 0, "hi": 1, "hi_open": True}
# key -> Key, for the keys of every section (a "section.key" entry overrides a plain "key" one)
SCHEMA = {
    # [dataset]
    "subset": Key("bool", "use the 5,000-image subset shipped with dalam"),
    "root": Key("str", "folder holding the dataset files", null=True),
    "download": Key("bool", "download missing files"),
    "limit": Key("int", "use only the first N training examples", **_POS_INT, null=True),
    "val_limit": Key("int", "use only the first N validation examples", **_POS_INT, null=True),
    "val_split": Key("float", "share of the training images held out for validation (0: none)", lo=0, hi=1,
                     hi_open=True),
    "dataset.block_size": Key("int", "characters per training window", **_POS_INT),
    "path": Key("str", "the UTF-8 text file to train on"),
    "val_fraction": Key("float", "share of the text held out for validation", lo=0, hi=1, lo_open=True,
                        hi_open=True),
    # [train]
    "epochs": Key("int", "number of passes over the training data", lo=0),
    "batch_size": Key("int", "examples per optimiser step", **_POS_INT),
    "checkpoint_dir": Key("str", "folder for checkpoints (default: runs/<config file name>)", null=True),
    "seed": Key("int", "random seed", lo=0),
    "max_grad_norm": Key("float", "clip the gradient norm to this", lo=0, lo_open=True, null=True),
    "save_every": Key("epoch_or_int", "checkpoint after each epoch or every N steps", **_POS_INT),
    "keep_last": Key("int", "how many recent checkpoints to keep", **_POS_INT),
    "log_dir": Key("str", "TensorBoard folder", null=True),
    "verbose": Key("int", "0 silent, 1 a progress bar in a terminal (one line per epoch otherwise), "
                          "2 one line per epoch", lo=0, hi=2),
    "validate": Key("bool", "evaluate on the validation split each epoch"),
    "monitor": Key("str", "the logged value that ranks checkpoints"),
    # [model]
    "mlp.hidden": Key("int_list", "widths of the hidden layers, e.g. [256, 128]", **_POS_INT),
    "cnn.hidden": Key("int", "width of the fully connected layer", **_POS_INT),
    "channels": Key("int_list", "output channels of each conv block, e.g. [32, 64]", **_POS_INT),
    "activation": Key("str", "hidden-layer activation", choices=("relu", "tanh", "gelu", "sigmoid")),
    "dropout": Key("float", "dropout probability", **_FRACTION),
    "embed_dim": Key("int", "embedding width", **_POS_INT),
    "hidden_size": Key("int", "recurrent state width", **_POS_INT),
    "num_layers": Key("int", "stacked layers", **_POS_INT),
    "cell": Key("str", "recurrent cell", choices=("lstm", "gru", "rnn")),
    "model.block_size": Key("int", "longest context the model accepts", **_POS_INT),
    "n_layer": Key("int", "transformer blocks", **_POS_INT),
    "n_head": Key("int", "attention heads", **_POS_INT),
    "n_embd": Key("int", "embedding width", **_POS_INT),
    "bias": Key("bool", "biases in Linear and LayerNorm"),
    "weight_tying": Key("bool", "share the embedding and output weights"),
    # [optimizer]
    "lr": Key("float", "learning rate", lo=0, lo_open=True),
    "momentum": Key("float", "momentum factor", lo=0),
    "dampening": Key("float", "momentum dampening", lo=0),
    "nesterov": Key("bool", "Nesterov momentum"),
    "weight_decay": Key("float", "L2 penalty", lo=0),
    "betas": Key("pair", "decay rates of the moment estimates, e.g. [0.9, 0.999]", **_FRACTION),
    "eps": Key("float", "term added for numerical stability", lo=0, lo_open=True),
    "amsgrad": Key("bool", "the AMSGrad variant"),
    "alpha": Key("float", "smoothing constant", lo=0),
    "centered": Key("bool", "centred RMSprop"),
    "rho": Key("float", "running-average coefficient", lo=0, hi=1),
    "lr_decay": Key("float", "learning-rate decay", lo=0),
    "initial_accumulator_value": Key("float", "initial accumulator", lo=0),
    "decoupled_weight_decay": Key("bool", "AdamW-style weight decay"),
    # [schedule]
    "step_size": Key("int", "epochs (or steps) between decays", **_POS_INT),
    "gamma": Key("float", "multiplicative decay factor", lo=0, lo_open=True),
    "milestones": Key("int_list", "epochs (or steps) at which to decay", **_POS_INT),
    "T_max": Key("int", "length of the cosine half-period", **_POS_INT),
    "eta_min": Key("float", "lowest learning rate", lo=0),
    "start_factor": Key("float", "factor at the start", lo=0, hi=1, lo_open=True),
    "end_factor": Key("float", "factor at the end", lo=0, hi=1),
    "total_iters": Key("int", "length of the warm-up", **_POS_INT),
    "max_lr": Key("float", "peak learning rate", lo=0, lo_open=True),
    "total_steps": Key("int", "length of the cycle", **_POS_INT),
    "pct_start": Key("float", "share of the cycle spent increasing", lo=0, hi=1, lo_open=True, hi_open=True),
    "div_factor": Key("float", "initial lr = max_lr / div_factor", lo=0, lo_open=True),
    "final_div_factor": Key("float", "final lr = initial lr / final_div_factor", lo=0, lo_open=True),
    "factor": Key("float", "decay factor on a plateau", **_FRACTION),
    "patience": Key("int", "epochs without improvement before decaying", lo=0),
    "cooldown": Key("int", "epochs to wait after a decay", lo=0),
    "min_lr": Key("float", "lowest learning rate", lo=0),
    "mode": Key("str", "whether lower or higher is better", choices=("min", "max")),
    "threshold": Key("float", "smallest change that counts", lo=0),
    "interval": Key("str", "step the schedule per epoch or per batch", choices=("epoch", "batch")),
    "steps_per_epoch": Key("int", "optimiser steps per epoch (with epochs, instead of total_steps)", **_POS_INT,
                           null=True),
    "anneal_strategy": Key("str", "how the learning rate moves within a phase", choices=("cos", "linear")),
    "cycle_momentum": Key("bool", "cycle the momentum inversely to the learning rate"),
    "base_momentum": Key("float", "lowest momentum of the cycle", lo=0),
    "max_momentum": Key("float", "highest momentum of the cycle", lo=0),
    "three_phase": Key("bool", "a third phase that anneals below the initial learning rate"),
    "threshold_mode": Key("str", "threshold relative to the best value, or absolute", choices=("rel", "abs")),
    "pool": Key("str", "pooling after each convolution", choices=("max", "avg")),
    "lenet5.activation": Key("str", "activation after each layer", choices=("relu", "tanh")),
}


def rule_for(section, key, owner=None):
    """The SCHEMA entry for ``key`` in ``section`` ('[model]'...), most specific first."""
    sec = section.strip("[]")
    for name in ((f"{owner}.{key}",) if owner else ()) + (f"{sec}.{key}", key):
        if name in SCHEMA:
            return SCHEMA[name]
    return None


def check_value(section, key, value, default=None, owner=None):
    """Validate one config value: by its SCHEMA entry, else by its default's type."""
    rule = rule_for(section, key, owner)
    if rule is not None:
        return rule.check(section, key, value)
    return _type_check(section, key, value, default)


def _type_check(section, key, value, default):
    """The obvious type mistakes (a string for a number...), by the default's type."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise CLIError(f"{section} {key} = {value!r}: expected true or false")
    elif isinstance(default, int) and not (isinstance(default, bool)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise CLIError(f"{section} {key} = {value!r}: expected an integer")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CLIError(f"{section} {key} = {value!r}: expected a finite number")
    elif isinstance(default, (list, tuple)):
        if not isinstance(value, list):
            raise CLIError(f"{section} {key} = {value!r}: expected a list like {list(default)!r}")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise CLIError(f"{section} {key} = {value!r}: expected a string like {default!r}")
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
    except UnicodeDecodeError as e:
        raise CLIError(f"{p}: not valid TOML: not UTF-8 text (byte {e.start} is 0x{e.object[e.start]:02x})") \
            from None


def canonical_dataset(name):
    n = str(name).lower()
    n = DATASET_ALIASES.get(n, n)
    if n not in DATASETS:
        raise CLIError(f"[dataset] name: unknown dataset {name!r}{suggest(n, DATASETS)}; "
                       f"allowed: {', '.join(DATASETS)}")
    return n


def load_config(path, overrides=None):
    """The validated config: a dict of the five sections with defaults filled in.
    Every error names the file, then the section, key, value and what is allowed."""
    try:
        return _load_config(path, overrides)
    except CLIError as e:
        if str(path) in str(e):
            raise
        raise CLIError(f"{path}: {e}") from None


def _load_config(path, overrides=None):
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
        check_value("[dataset]", k, v, allowed[k])
    cfg["dataset"] = {"name": ds_name, **{**allowed, **ds}}
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
    for k, v in (overrides or {}).items():
        if v is not None:
            tr[k] = v
    for k, v in tr.items():
        check_value("[train]", k, v, TRAIN_KEYS[k])
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
