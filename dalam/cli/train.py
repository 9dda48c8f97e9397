"""Train a model from a TOML config and save resumable checkpoints.

    dalam train configs/mnist_cnn.toml
    dalam train configs/mnist_cnn.toml --resume      # continue after a stop or a kill
    dalam train configs/char_lstm.toml --epochs 1 --checkpoint-dir /tmp/run
    dalam train configs/mnist_cnn.toml --nproc 2     # data parallel on 2 processes (dalam launch)

The config names [dataset], [model], [optimizer], [schedule] and [train]
(see configs/ for ready-made ones).  Checkpoints go to [train] checkpoint_dir
(default runs/<config name>): training checkpoints written by
dalam.train.ModelCheckpoint, dalam.json (what eval/predict/generate need to
rebuild the model) and history.csv.  With --nproc N the same run is split
over N processes: [train] batch_size stays the global batch (batch_size / N
per process), BatchNorm becomes SyncBatchNorm, so N processes train as one
would; a rank that fails stops the job, and --max-restarts K starts it again
from the last checkpoint."""
import os
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
    p.add_argument("--nproc", type=int, default=1,
                   help="train data-parallel on N processes (over MPI, through dalam launch)")
    p.add_argument("--max-restarts", type=int, default=0,
                   help="with --nproc: restart a failed job from its last checkpoint up to K times")


def _prepare_dir(d, meta, resume, overwrite):
    from ..train.checkpoint import has_checkpoint_files, resolve_checkpoint
    from .checkpoint import META_FILE, read_meta_file
    d = pathlib.Path(d)
    has = d.is_dir() and has_checkpoint_files(d)
    if resume and has:
        folder, why = resolve_checkpoint(d, verify=True)
        if folder is None:  # never start over while checkpoint folders exist
            raise CLIError(f"--resume: {d} holds checkpoint folders but none can be resumed from: {why}. "
                           "Move them away, or pass --overwrite (without --resume) to start again")
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
            if q.is_dir() and q.name.startswith(("ckpt-", ".tmp-ckpt-", ".old-ckpt-", ".pruned-ckpt-")):
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


def _relaunch(args):
    """``dalam train ... --nproc N``: the same command on N ranks through dalam launch."""
    from ..distributed.launch import launch
    argv = ["train", args.config]
    for flag in ("resume", "overwrite", "quiet"):
        if getattr(args, flag):
            argv.append("--" + flag)
    for opt in ("epochs", "batch_size", "checkpoint_dir", "log_dir"):
        v = getattr(args, opt)
        if v is not None:
            argv += ["--" + opt.replace("_", "-"), str(v)]
    try:
        return launch(args.nproc, "dalam.cli", argv, module=True, max_restarts=args.max_restarts)
    except (FileNotFoundError, ValueError) as e:
        raise CLIError(str(e)) from None


def _join_job(args):
    """Inside a launched job: join the process group; (rank, world size), or None alone."""
    from ..distributed import launch, process_group
    if not process_group.launched_by_mpi():
        return None
    import dalam.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    if dist.get_world_size() == 1:
        return None
    if launch.restart_count() > 0:  # restarted by --max-restarts: continue, never start over
        args.resume, args.overwrite = True, False
    return dist.get_rank(), dist.get_world_size()


def _shard(x, y, rank, world):
    """Every world-th example from rank on: disjoint shards, none repeated (for validation)."""
    return x[rank::world], y[rank::world]


def run(args):
    if args.nproc < 1:
        raise CLIError(f"--nproc must be >= 1, got {args.nproc}")
    if args.nproc > 1 and not _in_job():
        return _relaunch(args)
    job = _join_job(args)
    from ..train import _dist
    from .. import backend
    from ..train import CSVLogger, ModelCheckpoint, fit
    from . import data as D
    from .checkpoint import make_meta, write_meta
    from .config import load_config
    from .registry import build_model, build_optimizer, build_schedule, model_args

    cfg = load_config(args.config, {"epochs": args.epochs, "batch_size": args.batch_size,
                                    "checkpoint_dir": args.checkpoint_dir, "log_dir": args.log_dir})
    tr, task = cfg["train"], cfg["task"]
    (xt, yt), (xv, yv), info, pre = D.load_splits(cfg["dataset"], seed=cfg["train"]["seed"])
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
    if job is None:
        resuming = _prepare_dir(ckdir, meta, args.resume, args.overwrite)
    else:  # rank 0 looks at (and may clean) the directory, the others follow its answer
        answer = None
        if job[0] == 0:
            try:
                answer = (_prepare_dir(ckdir, meta, args.resume, args.overwrite), None)
            except CLIError as e:
                answer = (False, str(e))
        resuming, problem = _dist.from_main(answer)
        if problem:
            raise CLIError(problem)
    if args.resume and not resuming and _dist.is_main():
        print(f"dalam train: no checkpoint in {ckdir} yet; starting from scratch", file=sys.stderr)

    backend.manual_seed(int(tr["seed"]))
    model = build_model(cfg["model"]["name"], margs)
    bs = tr["batch_size"]
    if job is not None:
        from ..distributed import DistributedDataParallel, SyncBatchNorm
        rank, world = job
        if bs % world:
            raise CLIError(f"[train] batch_size ({bs}) must divide evenly over --nproc {world} (it is the "
                           "global batch)")
        bs //= world
        model = DistributedDataParallel(SyncBatchNorm.convert_sync_batchnorm(model))
        if xv is not None:
            xv, yv = _shard(xv, yv, rank, world)
    opt = build_optimizer(cfg["optimizer"], model.parameters())
    train_loader = D.loader(xt, yt, bs, shuffle=True, seed=tr["seed"], distributed=job is not None)
    val_loader = D.loader(xv, yv, max(bs, 256), shuffle=False) \
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
    if _dist.is_main():
        write_meta(ckdir, meta)
    if resuming and _dist.is_main():
        from ..train.checkpoint import read_progress, resolve_checkpoint
        folder, why = resolve_checkpoint(ckdir, verify=True)
        p = read_progress(folder)
        where = (f"{p['epoch']} epoch(s) done" if not p.get("batch") else
                 f"epoch {p['epoch'] + 1}, batch {p['batch']}")
        print(f"dalam train: resuming from {folder} ({where}, step {p['global_step']}): {why}",
              file=sys.stderr)
    n_params = sum(p.numel() for p in model.parameters())
    if _dist.is_main():
        where = f" on {job[1]} processes" if job else ""
        print(f"dalam train: {cfg['model']['name']} ({n_params:,} parameters) on {cfg['dataset']['name']} "
              f"({len(xt)} training examples){where}, {tr['epochs']} epoch(s), checkpoints in {ckdir}",
              file=sys.stderr)
    loss_fn = D.lm_loss if task == "chars" else _cross_entropy
    try:
        hist = fit(model, train_loader, loss_fn, opt, epochs=tr["epochs"], val_loader=val_loader,
                   metrics=["accuracy"] if task == "image" else None, callbacks=callbacks,
                   verbose=0 if args.quiet else tr["verbose"], resume=ckdir if resuming else None,
                   scheduler=sched, scheduler_interval=interval, max_grad_norm=tr["max_grad_norm"])
    except KeyboardInterrupt:
        if _dist.is_main():
            print(_interrupted_message(args, ckdir), file=sys.stderr)
        raise
    last = {k: v[-1] for k, v in hist.history.items() if v}
    shown = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k != "lr")
    if _dist.is_main():
        print(f"done: {len(hist.history.get('loss', []))} epoch(s) in total; {shown}; checkpoints in {ckdir}")
        _plot_curves(hist, ckdir)
        if task == "image":  # rank 0 alone, on the plain model (eval mode needs no collectives)
            _report_test(model.module if job is not None else model, cfg, pre, ckdir, loss_fn)
    return 0


def _interrupted_message(args, ckdir):
    """What Ctrl-C leaves behind and the exact command that continues the run."""
    import shlex
    from ..train.checkpoint import find_checkpoint, read_progress
    cmd = ["dalam", "train", str(args.config), "--resume"]
    if args.checkpoint_dir:
        cmd += ["--checkpoint-dir", str(args.checkpoint_dir)]
    if args.epochs is not None:
        cmd += ["--epochs", str(args.epochs)]
    resume = " ".join(shlex.quote(c) for c in cmd)
    try:
        folder = find_checkpoint(ckdir)
        p = read_progress(folder) if folder is not None else None
    except (OSError, RuntimeError, ValueError):
        folder = p = None
    if p is None:
        return (f"dalam train: stopped before the first checkpoint was saved in {ckdir}; "
                f"`{resume}` starts again from scratch")
    where = (f"{p['epoch']} epoch(s) done" if not p.get("batch") else
             f"epoch {p['epoch'] + 1}, batch {p['batch']}")
    return (f"dalam train: stopped; the latest checkpoint is {folder} ({where}, step {p['global_step']}); "
            f"continue with: {resume}")


def _plot_curves(hist, ckdir):
    """curves.png next to history.csv (skipped, with a note, without matplotlib)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("dalam train: no learning-curve PNG: pip install matplotlib", file=sys.stderr)
        return
    path = pathlib.Path(ckdir) / "curves.png"
    hist.plot(path)
    print(f"learning curves: {path}")


def _report_test(model, cfg, pre, ckdir, loss_fn):
    """The test set, evaluated once at the end (models were chosen on validation data), with
    ``dalam eval``'s own loop: local to this process (no collectives under --nproc)."""
    import json
    import numpy as np
    from . import data as D
    from .evaluate import evaluate
    xs, ys = D.test_split(cfg["dataset"], pre)
    res = evaluate(model, np.asarray(xs), np.asarray(ys), 256, "image")
    (pathlib.Path(ckdir) / "test.json").write_text(json.dumps(res, indent=1) + "\n")
    print(f"test (evaluated once, {res['examples']} examples): loss {res['loss']:.4f}, accuracy "
          f"{res['accuracy']:.4f}")


def _in_job():
    from ..distributed.process_group import launched_by_mpi
    return launched_by_mpi()


def _cross_entropy(out, y):
    from ..nn import functional as F
    return F.cross_entropy(out, y)
