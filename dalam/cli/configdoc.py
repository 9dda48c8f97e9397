"""docs/cli.md's reference of every config key, made from the validator's own tables
(``config.DATASETS``, ``TRAIN_KEYS``, ``SCHEMA`` and the model/optimiser/schedule registry),
so the page cannot drift from what ``dalam train`` accepts (tests/test_cli.py compares them).

    python -m dalam.cli.configdoc > docs/cli.md"""
import inspect


def _fmt(v):
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return repr(v)


def _row(section, key, default, owner=None):
    from .config import rule_for
    rule = rule_for(section, key, owner)
    allowed = rule.allowed() if rule else f"same type as the default"
    meaning = rule.meaning if rule else ""
    return f"| `{key}` | {_fmt(default)} | {allowed} | {meaning} |"


def _table(section, items, owner=None):
    head = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    return head + [_row(section, k, v, owner) for k, v in items.items()]


def markdown():
    from . import config, registry
    from .. import optim
    from ..optim import lr_scheduler
    out = ["# `dalam train` configs: every key", "",
           "A config is a TOML file with the sections `[dataset]`, `[model]`, `[optimizer]`, `[schedule]` and",
           "`[train]`; only `[dataset]` and `[model]` are required. Every key is checked before any data is",
           "loaded: an unknown key names the closest allowed one, a value of the wrong type or range names",
           "the key, the value and what is allowed. This page is generated from the validator",
           "(`python -m dalam.cli.configdoc > docs/cli.md`; the tests check it is up to date).", "",
           "Example: `configs/mnist_cnn.toml`; run it with `dalam train configs/mnist_cnn.toml` (add",
           "`--epochs 1` for a quick try, `--resume` to continue after a stop).", "", "## [dataset]", ""]
    for name, (task, keys) in config.DATASETS.items():
        out += [f"### name = \"{name}\" ({'images' if task == 'image' else 'characters'})", ""]
        out += _table("[dataset]", keys) + [""]
    out += ["For image datasets, `val_split` of the training images (a seeded choice, by `[train] seed`)",
            "are held out for validation: the best checkpoint and early stopping are chosen on them, and the",
            "test set is evaluated once after training (`test.json` in the run folder).", "",
            "## [model]", "", "Keys the dataset fixes (classes, channels, vocabulary size) are set by dalam.", ""]
    for name in registry.MODELS:
        params = {k: v for k, v in registry.model_params(name).items()
                  if k not in registry.DATA_ARGS[registry.model_task(name)]}
        out += [f"### name = \"{name}\"", ""]
        out += (_table("[model]", params, owner=name) if params else ["(no keys)"]) + [""]
    out += ["## [optimizer]", "", "Default: `name = \"adam\"` with `lr = 1e-3`. The keys are the optimiser's "
            "constructor arguments, as in PyTorch.", ""]
    skip = ("self", "params", "foreach", "maximize", "capturable", "differentiable", "fused")
    for name, cls in registry.OPTIMIZERS.items():
        out += [f"### name = \"{name}\" (`dalam.optim.{cls}`)", ""]
        out += _table("[optimizer]", registry._signature_args(getattr(optim, cls), skip)) + [""]
    out += ["## [schedule]", "", "Default: `name = \"none\"`. `interval = \"epoch\"` or `\"batch\"` says when "
            "the schedule steps (`onecycle`: per batch). The length of training fills `T_max`, `total_iters` "
            "and `total_steps` unless given.", ""]
    for name, cls in registry.SCHEDULES.items():
        if cls is None:
            continue
        out += [f"### name = \"{name}\" (`dalam.optim.lr_scheduler.{cls}`)", ""]
        out += _table("[schedule]", registry._signature_args(getattr(lr_scheduler, cls),
                                                             ("self", "optimizer", "last_epoch", "verbose"))) + [""]
    out += ["## [train]", ""] + _table("[train]", config.TRAIN_KEYS) + [""]
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
