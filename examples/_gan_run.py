"""The training/evaluation run behind gan_mnist.py, dcgan_mnist.py and cgan_mnist.py."""
import argparse
import os
import time

import numpy as np

from _gen_common import FIDJudge, add_common_args, load_mnist01, save_results


def parse(kind, doc, epochs, batch_size, train_size):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, os.path.join("runs", kind))
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batch-size", type=int, default=batch_size)
    ap.add_argument("--train-size", type=int, default=train_size, help="training images used")
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--width", type=int, default=32, help="ngf/ndf (conv) or hidden units / 8 (MLP)")
    ap.add_argument("--loss", choices=["bce", "wgan-gp"], default="bce")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--max-steps", type=int, default=None)
    return ap.parse_args()


def build(kind, args):
    from dalam.models import gan
    if kind == "gan":
        return gan.MLPGenerator(args.latent, args.width * 8), gan.MLPDiscriminator(hidden=args.width * 8)
    if kind == "dcgan":
        norm = "layer" if args.loss == "wgan-gp" else "batch"
        return gan.DCGANGenerator(args.latent, args.width), gan.DCGANDiscriminator(args.width, norm=norm)
    norm = "layer" if args.loss == "wgan-gp" else "batch"
    return (gan.ConditionalGenerator(args.latent, ngf=args.width),
            gan.ConditionalDiscriminator(ndf=args.width, norm=norm))


def run(kind, args):
    import dalam
    from dalam.models.gan import GANTrainer, generate, latent_interpolation
    from dalam.utils import save_image_grid
    t0 = time.time()
    cond = kind == "cgan"
    x, y, xt, yt = load_mnist01(args.data, args.subset)
    x, y = x[:args.train_size], y[:args.train_size]
    judge = FIDJudge(x, args.classifier, root=args.data)
    n_eval = min(args.eval_samples, len(xt))
    res = {"model": kind, "loss": args.loss, "epochs": args.epochs, "train_images": len(x),
           "batch_size": args.batch_size, "seed": args.seed, "eval_samples": n_eval}
    real = judge(xt[:n_eval])
    res["fid_real_test"] = real["fid"]
    res["real_test_confidence"] = real["confidence"]

    dalam.manual_seed(args.seed)
    G, D = build(kind, args)
    rng = np.random.default_rng(args.seed + 7)
    eval_labels = np.arange(n_eval) % 10 if cond else None

    def samples01(G):
        return (generate(G, n_eval, args.latent, np.random.default_rng(123), eval_labels) + 1) / 2

    res["fid_untrained"] = judge(samples01(G))["fid"]
    tr = GANTrainer(G, D, args.latent, loss=args.loss, label_smoothing=args.label_smoothing,
                    conditional=cond, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)

    def on_epoch_end(trainer, epoch):
        save_image_grid(trainer.sample(), os.path.join(args.out, f"epoch_{epoch + 1:03d}.png"),
                        nrow=8 if not cond else 10, value_range=(-1, 1))
        h = trainer.history
        k = max(1, len(h["d_loss"]) // (epoch + 1))
        print(f"epoch {epoch + 1}: d_loss {np.mean(h['d_loss'][-k:]):.4f} g_loss "
              f"{np.mean(h['g_loss'][-k:]):.4f} ({time.time() - t0:.0f} s)", flush=True)

    t1 = time.time()
    tr.fit(x * 2 - 1, y if cond else None, epochs=args.epochs, batch_size=args.batch_size,
           max_steps=args.max_steps, on_epoch_end=on_epoch_end, log_every=200,
           log=lambda s: print(s, flush=True))
    res["train_seconds"] = round(time.time() - t1, 1)
    res["steps"] = tr.steps
    ev = judge(samples01(G))
    res["fid_trained"] = ev["fid"]
    res["confidence"] = ev["confidence"]
    res["digit_histogram"] = ev["histogram"]
    if cond:
        res["requested_digit_accuracy"] = float((ev["predictions"] == eval_labels).mean())
        per = [(ev["predictions"][eval_labels == d] == d).mean() for d in range(10)]
        res["requested_digit_accuracy_per_digit"] = [round(float(p), 4) for p in per]
    # progress image, interpolations
    save_image_grid(tr.sample(), os.path.join(args.out, "samples.png"), nrow=8 if not cond else 10,
                    value_range=(-1, 1), scale=2)
    rows = []
    for i in range(6):
        z = latent_interpolation(rng.standard_normal(args.latent), rng.standard_normal(args.latent), 10)
        G.eval()
        with dalam.no_grad():
            if cond:
                lab = dalam.tensor(np.full(10, i, np.int64))
                rows.append(G(z, lab).numpy())
            else:
                rows.append(G(z).numpy())
    save_image_grid(np.concatenate(rows), os.path.join(args.out, "interpolation.png"), nrow=10,
                    value_range=(-1, 1), scale=2)
    dalam.save(G.state_dict(), os.path.join(args.out, "generator.safetensors"))
    res["total_seconds"] = round(time.time() - t0, 1)
    save_results(args.out, res)
    return res
