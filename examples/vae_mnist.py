"""Variational autoencoder on MNIST (Bernoulli decoder on pixel intensities in
[0, 1], Gaussian encoder, reparameterisation trick).  Prints the test negative
ELBO in nats (reconstruction + KL, one posterior sample per image, averaged
over the test set); saves reconstructions, samples, and for --latent 2 a map
of the test set's latent means coloured by digit and a grid decoded over the
latent plane.

    python examples/vae_mnist.py --latent 16 --epochs 10 --out runs/vae16
    python examples/vae_mnist.py --latent 2 --epochs 10 --out runs/vae2
"""
import argparse
import os
import time

import numpy as np

from _gen_common import add_common_args, load_mnist01, save_results


def neg_elbo(model, x, rng, batch_size=1000):
    """Mean test (neg ELBO, reconstruction, KL) in nats, one z sample per image."""
    import dalam
    from dalam.models.vae import vae_loss
    tot = np.zeros(3)
    model.train()  # sampling z ~ q(z|x): the ELBO is an expectation over q
    with dalam.no_grad():
        for i in range(0, len(x), batch_size):
            xb = dalam.tensor(x[i:i + batch_size])
            logits, mu, lv = model(xb, rng=rng)
            parts = vae_loss(logits, xb, mu, lv)
            tot += np.array([p.item() for p in parts]) * len(xb)
    return tot / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, os.path.join("runs", "vae"))
    ap.add_argument("--latent", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    import dalam
    from dalam.models.vae import VAE, vae_loss
    from dalam.utils import save_image_grid
    t0 = time.time()
    x, y, xt, yt = load_mnist01(args.data, args.subset)
    dalam.manual_seed(args.seed)
    model = VAE(args.latent, args.hidden)
    opt = dalam.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    res = {"model": "vae", "latent": args.latent, "hidden": args.hidden, "epochs": args.epochs,
           "train_images": len(x), "seed": args.seed}
    res["test_neg_elbo_untrained"] = float(neg_elbo(model, xt, np.random.default_rng(1))[0])
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x))
        losses = []
        for i in range(0, len(x), args.batch_size):
            xb = dalam.tensor(x[order[i:i + args.batch_size]])
            logits, mu, lv = model(xb, rng=rng)
            loss, _, _ = vae_loss(logits, xb, mu, lv)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}: train neg ELBO {np.mean(losses):.2f} nats "
              f"({time.time() - t0:.0f} s)", flush=True)
    ne, rec, kl = neg_elbo(model, xt, np.random.default_rng(1))
    res.update(test_neg_elbo=float(ne), test_reconstruction=float(rec), test_kl=float(kl),
               train_seconds=round(time.time() - t0, 1))
    os.makedirs(args.out, exist_ok=True)
    model.eval()
    with dalam.no_grad():
        rec_img = model(dalam.tensor(xt[:32]))[0].sigmoid().numpy()
        # rows: 16 test digits, their reconstructions, 16 more, theirs
        save_image_grid(np.concatenate([xt[:16], rec_img[:16], xt[16:32], rec_img[16:32]]),
                        os.path.join(args.out, "reconstructions.png"), nrow=16, value_range=(0, 1),
                        scale=2)
        save_image_grid(model.sample(64, np.random.default_rng(2)),
                        os.path.join(args.out, "samples.png"), value_range=(0, 1), scale=2)
        # latent interpolation between two test digits' means
        from dalam.models.gan import latent_interpolation
        mu = model.encode(dalam.tensor(xt[:12]))[0].numpy()
        rows = [model.decode(latent_interpolation(mu[2 * i], mu[2 * i + 1], 10, spherical=False))
                .sigmoid().numpy() for i in range(6)]
        save_image_grid(np.concatenate(rows), os.path.join(args.out, "interpolation.png"), nrow=10,
                        value_range=(0, 1), scale=2)
        if args.latent == 2:
            latent_map(model, xt, yt, args.out)
    res["total_seconds"] = round(time.time() - t0, 1)
    dalam.save(model.state_dict(), os.path.join(args.out, "vae.safetensors"))
    save_results(args.out, res)


def latent_map(model, xt, yt, out):
    """Scatter of the test set's latent means coloured by digit, and the decoder
    evaluated on a 15x15 grid of the latent plane."""
    import dalam
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from dalam.utils import save_image_grid
    mu = np.concatenate([model.encode(dalam.tensor(xt[i:i + 1000]))[0].numpy()
                         for i in range(0, len(xt), 1000)])
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    sc = ax.scatter(mu[:, 0], mu[:, 1], c=yt, cmap="tab10", s=2, alpha=0.7)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_title("VAE latent means of the MNIST test set")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latent_map.png"))
    plt.close(fig)
    g = np.linspace(-2.5, 2.5, 15, dtype=np.float32)
    zz = np.stack([np.tile(g, 15), np.repeat(-g, 15)], 1).astype(np.float32)
    imgs = model.decode(dalam.tensor(zz)).sigmoid().numpy()
    save_image_grid(imgs, os.path.join(out, "latent_grid.png"), nrow=15, value_range=(0, 1),
                    padding=0)


if __name__ == "__main__":
    main()
