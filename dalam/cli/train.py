"""Train a model from a TOML config and save resumable checkpoints.

    dalam train configs/mnist_cnn.toml
    dalam train configs/mnist_cnn.toml --resume      # continue after a stop or a kill
    dalam train configs/char_lstm.toml --epochs 1 --checkpoint-dir /tmp/run

The config names [dataset], [model], [optimizer], [schedule] and [train]
(see configs/ for ready-made ones).  Checkpoints go to [train] checkpoint_dir
(default runs/<config name>): training checkpoints written by
dalam.train.ModelCheckpoint, dalam.json (what eval/predict/generate need to
rebuild the model) and history.csv."""
import pathlib
import shutil
import sys

from .main import CLIError


def add_arguments(p):
    p.add_argument("config", help="TOML config file")
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint in the checkpoint directory")
    p.add_argument("--overwrite", action="store_true",
                   help="start again, deleting the checkpoints already in the checkpoint directory")
    p.add_argument("--epochs", type=int, help="override [train] epochs (the total, also when resuming)")
    p.add_argument("--batch-size", type=int, help="override [train] batch_size")
    p.add_argument("--checkpoint-dir", help="override [train] checkpoint_dir")
    p.add_argument("--log-dir", help="override [train] log_dir: write TensorBoard event files there")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")


def _prepare_dir(d, meta, resume, overwrite):
    from ..train.checkpoint import find_checkpoint
    from .checkpoint import META_FILE, read_meta_file
    d = pathlib.Path(d)
    has = d.is_dir() and find_checkpoint(d) is not None
    if resume:
        if has and (d / META_FILE).is_file():
            old = read_meta_file(d / META_FILE)
            if old["model"] != meta["model"]:
                raise CLIError(f"--resume: {d} holds a run of model '{old['model']['name']}' with "
                               f"{old['model']['args']}, but the config builds '{meta['model']['name']}' "
                               f"with {meta['model']['args']}; use another checkpoint_dir")
        return has
    if has and not overwrite:
        raise CLIError(f"{d} already holds checkpoints; pass --resume to continue that run or "
                       "--overwrite to start again")
    if overwrite and d.is_dir():
        for q in d.iterdir():
            if q.is_dir() and q.name.startswith(("ckpt-", ".tmp-ckpt-")):
                shutil.rmtree(q)
            elif q.name in ("checkpoint.json", "history.csv", META_FILE):
                q.unlink()
    return False


def _epoch_end_saver(ckpt):
    """With ``save_every = N`` steps, also save at the end of every epoch, so the
    final weights (and the validated, best-ranked state) are always on disk."""
    from ..train import Callback

    class SaveAtEpochEnd(Callback):
        order = 101  # after ModelCheckpoint

        def on_epoch_end(self, trainer, epoch, logs):
            ckpt._save(trainer, logs)
    return SaveAtEpochEnd()


def _sample_text_fn(model, pre):
    """For TensorBoard: 200 characters sampled from the model after each epoch."""
    from ..text import CharVocab
    from .generate import sample
    vocab = CharVocab(pre["vocab"])

    def fn(trainer):
        return sample(model, vocab, prompt=vocab.itos[0], length=200, temperature=0.8, seed=0)
    return fn


def run(args):
    from .. import backend
    from ..train import CSVLogger, ModelCheckpoint, fit
    from . import data as D
    from .checkpoint import make_meta, write_meta
    from .config import load_config
    from .registry import build_model, build_optimizer, build_schedule, model_args

    cfg = load_config(args.config, {"epochs": args.epochs, "batch_size": args.batch_size,
                                    "checkpoint_dir": args.checkpoint_dir, "log_dir": args.log_dir})
    tr, task = cfg["train"], cfg["task"]
    (xt, yt), (xv, yv), info, pre = D.load_splits(cfg["dataset"])
    user = {k: v for k, v in cfg["model"].items() if k != "name"}
    if cfg["model"]["name"] == "gpt":
        T = pre["block_size"]
        if user.get("block_size", T) < T:
            raise CLIError(f"[model] block_size ({user['block_size']}) is smaller than [dataset] "
                           f"block_size ({T}), the length of the training windows")
        info = dict(info, block_size=user.pop("block_size", T))
    margs = model_args(cfg["model"]["name"], user, info)
    meta = make_meta(cfg, margs, pre)
    ckdir = pathlib.Path(tr["checkpoint_dir"])
    resuming = _prepare_dir(ckdir, meta, args.resume, args.overwrite)
    if args.resume and not resuming:
        print(f"dalam train: no checkpoint in {ckdir} yet; starting from scratch", file=sys.stderr)

    backend.manual_seed(int(tr["seed"]))
    model = build_model(cfg["model"]["name"], margs)
    opt = build_optimizer(cfg["optimizer"], model.parameters())
    train_loader = D.loader(xt, yt, tr["batch_size"], shuffle=True, seed=tr["seed"])
    val_loader = D.loader(xv, yv, max(tr["batch_size"], 256), shuffle=False) \
        if tr["validate"] and xv is not None else None
    sched, interval = build_schedule(cfg["schedule"], opt, tr["epochs"], len(train_loader))
    monitor = tr["monitor"] if val_loader is not None or not tr["monitor"].startswith("val_") else "loss"
    callbacks = [ModelCheckpoint(ckdir, monitor=monitor, save_freq=tr["save_every"], keep_last=tr["keep_last"]),
                 CSVLogger(ckdir / "history.csv", append=resuming)]
    if tr["save_every"] != "epoch":
        callbacks.append(_epoch_end_saver(callbacks[0]))
    if tr["log_dir"]:
        from ..train.tensorboard import TensorBoard
        images = xv[:16] * pre["std"] + pre["mean"] if task == "image" and xv is not None else None
        text_fn = _sample_text_fn(model, pre) if task == "chars" else None
        callbacks.append(TensorBoard(tr["log_dir"], images=images, text_fn=text_fn))
    write_meta(ckdir, meta)
    if resuming:
        from ..train.checkpoint import find_checkpoint, read_progress
        folder = find_checkpoint(ckdir)
        p = read_progress(folder)
        print(f"dalam train: resuming from {folder} (epoch {p['epoch'] + 1}, step {p['global_step']})",
              file=sys.stderr)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"dalam train: {cfg['model']['name']} ({n_params:,} parameters) on {cfg['dataset']['name']} "
          f"({len(xt)} training examples), {tr['epochs']} epoch(s), checkpoints in {ckdir}", file=sys.stderr)
    loss_fn = D.lm_loss if task == "chars" else _cross_entropy
    hist = fit(model, train_loader, loss_fn, opt, epochs=tr["epochs"], val_loader=val_loader,
               metrics=["accuracy"] if task == "image" else None, callbacks=callbacks,
               verbose=0 if args.quiet else tr["verbose"], resume=ckdir if resuming else None,
               scheduler=sched, scheduler_interval=interval, max_grad_norm=tr["max_grad_norm"])
    last = {k: v[-1] for k, v in hist.history.items() if v}
    shown = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k != "lr")
    print(f"done: {len(hist.history.get('loss', []))} epoch(s) in total; {shown}; checkpoints in {ckdir}")
    return 0


def _cross_entropy(out, y):
    from ..nn import functional as F
    return F.cross_entropy(out, y)
