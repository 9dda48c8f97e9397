"""What a config or a checkpoint can name: models, datasets, optimisers and
learning-rate schedules.

A model is rebuilt from ``{"name": ..., "args": {...}}`` alone (the args are
the complete constructor arguments, data-derived ones included), which is
what a checkpoint stores, so eval/predict/generate need no config."""
import inspect

from .main import CLIError


# ------------------------------------------------------------------ models
def _mlp(in_features=784, hidden=(256, 128), num_classes=10, activation="relu", dropout=0.0):
    """Flatten -> [Linear -> act (-> Dropout)] per hidden size -> Linear."""
    from .. import nn
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}
    if activation not in acts:
        raise CLIError(f"[model] activation: {activation!r} is not one of {sorted(acts)}")
    layers, width = [nn.Flatten()], in_features
    for h in hidden:
        layers += [nn.Linear(width, int(h)), acts[activation]()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = int(h)
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _cnn(in_channels=1, num_classes=10, input_size=28, channels=(32, 64), hidden=128, dropout=0.0):
    """The W2 benchmark CNN: [conv 3x3 p1 -> ReLU -> maxpool 2] per channel count
    -> fc hidden -> fc classes."""
    from .. import nn
    layers, c, side = [], in_channels, input_size
    for w in channels:
        layers += [nn.Conv2d(c, int(w), 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c, side = int(w), side // 2
    layers += [nn.Flatten(), nn.Linear(c * side * side, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, num_classes))
    return nn.Sequential(*layers)


def _lenet5(**kw):
    from ..models import LeNet5
    return LeNet5(**kw)


def _resnet(depth):
    def build(in_channels=1, num_classes=10):
        from .. import models
        return getattr(models, f"resnet{depth}")(in_channels=in_channels, num_classes=num_classes)
    build.__name__ = f"resnet{depth}"
    return build


def _char_rnn(vocab_size=65, embed_dim=64, hidden_size=256, num_layers=1, cell="lstm", dropout=0.0):
    from ..models import CharRNN
    return CharRNN(vocab_size, embed_dim=embed_dim, hidden_size=hidden_size, num_layers=num_layers,
                   cell=cell, dropout=dropout)


def _gpt(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=True,
         weight_tying=True):
    from ..models import GPT
    return GPT(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head,
               n_embd=n_embd, dropout=dropout, bias=bias, weight_tying=weight_tying)


# name -> (builder, task); task "image": (N, C, H, W) float -> class logits;
# "chars": (N, T) int64 character ids -> next-character logits
MODELS = {
    "mlp": (_mlp, "image"),
    "cnn": (_cnn, "image"),
    "lenet5": (_lenet5, "image"),
    "resnet8": (_resnet(8), "image"),
    "resnet14": (_resnet(14), "image"),
    "resnet20": (_resnet(20), "image"),
    "char_rnn": (_char_rnn, "chars"),
    "gpt": (_gpt, "chars"),
}
ALIASES = {"lenet": "lenet5", "char_lstm": "char_rnn", "charrnn": "char_rnn", "lstm": "char_rnn"}

# the constructor arguments a dataset fixes (not to be set in [model])
DATA_ARGS = {"image": ("in_channels", "in_features", "num_classes", "input_size"),
             "chars": ("vocab_size",)}


def model_names():
    return sorted(MODELS)


def canonical_model(name):
    n = str(name).lower().replace("-", "_")
    n = ALIASES.get(n, n)
    if n not in MODELS:
        from .config import suggest
        raise CLIError(f"[model] name: unknown model {name!r}{suggest(n, MODELS)}; "
                       f"allowed: {', '.join(model_names())}")
    return n


def model_task(name):
    return MODELS[canonical_model(name)][1]


def model_params(name):
    """The constructor arguments of a model with their defaults."""
    fn = MODELS[canonical_model(name)][0]
    if fn is _lenet5:
        from ..models import LeNet5
        fn = LeNet5.__init__
    sig = inspect.signature(fn)
    return {k: p.default for k, p in sig.parameters.items()
            if k != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}


def check_model_keys(name, user_args):
    """Refuse unknown constructor arguments and those the dataset fixes."""
    name = canonical_model(name)
    from .config import check_keys, check_value
    check_keys(user_args, model_params(name), "[model]", f"model '{name}'")
    fixed = [k for k in user_args if k in DATA_ARGS[MODELS[name][1]]]
    if fixed:
        raise CLIError(f"[model] {fixed[0]}: set by the dataset; remove it from the config")
    params = model_params(name)
    for k, v in user_args.items():
        check_value("[model]", k, v, params[k], owner=name)


def model_args(name, user_args, data_info):
    """The complete constructor arguments: defaults, then what the dataset fixes
    (classes, channels, vocabulary), then the config's [model] keys."""
    name = canonical_model(name)
    params = model_params(name)
    task = MODELS[name][1]
    from .config import check_keys
    check_keys(user_args, params, "[model]", f"model '{name}'")
    fixed = [k for k in user_args if k in DATA_ARGS[task] and k in data_info]
    if fixed:
        raise CLIError(f"[model] {fixed[0]}: set by the dataset ({data_info[fixed[0]]}); remove it from "
                       "the config")
    args = dict(params)
    args.update({k: v for k, v in data_info.items() if k in params})
    args.update(user_args)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()}


def build_model(name, args):
    """The module for a model spec; bad arguments become one-line errors naming [model]."""
    name = canonical_model(name)
    fn = MODELS[name][0]
    try:
        return fn(**args)
    except CLIError:
        raise
    except (TypeError, ValueError, KeyError, RuntimeError) as e:
        raise CLIError(f"[model] cannot build '{name}' with {args}: {e}") from e


# ------------------------------------------------------------------ optimisers and schedules
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
              "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax", "radam": "RAdam"}

# name -> (class in dalam.optim.lr_scheduler, how the CLI fills in the length of training)
SCHEDULES = {"none": None, "step": "StepLR", "multistep": "MultiStepLR", "exponential": "ExponentialLR",
             "cosine": "CosineAnnealingLR", "linear": "LinearLR", "onecycle": "OneCycleLR",
             "plateau": "ReduceLROnPlateau"}


def _signature_args(cls, skip):
    sig = inspect.signature(cls.__init__)
    return {k: p.default for k, p in sig.parameters.items()
            if k not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def optimizer_spec(spec):
    """(optimiser class, keyword arguments), every key checked."""
    from .. import optim
    from .config import check_keys, check_value, suggest
    spec = dict(spec)
    name = str(spec.pop("name", "adam")).lower()
    if name not in OPTIMIZERS:
        raise CLIError(f"[optimizer] name: unknown optimizer {name!r}{suggest(name, OPTIMIZERS)}; "
                       f"allowed: {', '.join(OPTIMIZERS)}")
    cls = getattr(optim, OPTIMIZERS[name])
    allowed = _signature_args(cls, ("self", "params", "foreach", "maximize", "capturable",
                                    "differentiable", "fused"))
    check_keys(spec, allowed, "[optimizer]", f"optimizer '{name}'")
    for k, v in spec.items():
        check_value("[optimizer]", k, v, allowed[k])
    if "betas" in spec:
        spec["betas"] = tuple(spec["betas"])
    return cls, name, spec


def build_optimizer(spec, params):
    cls, name, kw = optimizer_spec(spec)
    try:
        return cls(params, **kw)
    except (TypeError, ValueError) as e:
        raise CLIError(f"[optimizer] {name}: {e}") from e


def schedule_spec(spec):
    """(scheduler class or None, name, interval, keyword arguments), every key checked."""
    from ..optim import lr_scheduler
    from .config import check_keys, check_value, suggest
    spec = dict(spec)
    name = str(spec.pop("name", "none")).lower()
    interval = spec.pop("interval", "batch" if name == "onecycle" else "epoch")
    if name not in SCHEDULES:
        raise CLIError(f"[schedule] name: unknown schedule {name!r}{suggest(name, SCHEDULES)}; "
                       f"allowed: {', '.join(SCHEDULES)}")
    if interval not in ("epoch", "batch"):
        raise CLIError(f"[schedule] interval: must be 'epoch' or 'batch', got {interval!r}")
    if SCHEDULES[name] is None:
        check_keys(spec, {}, "[schedule]", "schedule 'none'")
        return None, name, interval, spec
    cls = getattr(lr_scheduler, SCHEDULES[name])
    allowed = _signature_args(cls, ("self", "optimizer", "last_epoch", "verbose"))
    check_keys(spec, allowed, "[schedule]", f"schedule '{name}'")
    for k, v in spec.items():
        check_value("[schedule]", k, v, allowed[k])
    if name == "onecycle" and interval != "batch":
        raise CLIError("[schedule] onecycle steps per batch: remove interval or set it to 'batch'")
    return cls, name, interval, spec


def build_schedule(spec, optimizer, epochs, steps_per_epoch):
    """(scheduler or None, interval).  ``cosine`` gets T_max, ``linear``
    total_iters and ``onecycle`` its total steps from the training length
    unless the config sets them."""
    cls, name, interval, spec = schedule_spec(spec)
    if cls is None:
        return None, interval
    n = epochs * (steps_per_epoch if interval == "batch" else 1)
    if name == "cosine":
        spec.setdefault("T_max", max(n, 1))
    if name == "onecycle":
        spec.setdefault("max_lr", optimizer.param_groups[0]["lr"])
        if "epochs" not in spec and "steps_per_epoch" not in spec:
            spec.setdefault("total_steps", max(n, 1))
    if name == "linear":
        spec.setdefault("total_iters", max(n, 1))
    try:
        return cls(optimizer, **spec), interval
    except (TypeError, ValueError) as e:
        raise CLIError(f"[schedule] {name}: {e}") from e
