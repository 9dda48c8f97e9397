"""Autoencoders on MNIST: a dense one (784-256-latent) and a convolutional one
(stride-2 convs down, ConvTranspose2d up), trained with BCE on pixel
intensities.  Prints each model's test reconstruction error (BCE in nats per
image and MSE per pixel) and saves original/reconstruction grids under --out.

    python examples/autoencoder_mnist.py --epochs 3 --out runs/autoencoder
"""
import argparse
import os
import time

import numpy as np

from _gen_common import add_common_args, load_mnist01, save_results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, os.path.join("runs", "autoencoder"))
    ap.add_argument("--latent", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--train-size", type=int, default=60000)
    args = ap.parse_args()
    import dalam
    from dalam.models.autoencoder import Autoencoder, ConvAutoencoder
    from dalam.nn import functional as F
    from dalam.utils import save_image_grid
    x, y, xt, yt = load_mnist01(args.data, args.subset)
    x = x[:args.train_size]
    res = {"latent": args.latent, "epochs": args.epochs, "train_images": len(x)}
    os.makedirs(args.out, exist_ok=True)
    for name, cls in (("dense", Autoencoder), ("conv", ConvAutoencoder)):
        t0 = time.time()
        dalam.manual_seed(args.seed)
        model = cls(latent_dim=args.latent)
        opt = dalam.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(args.seed)
        for epoch in range(args.epochs):
            order = rng.permutation(len(x))
            for i in range(0, len(x), args.batch_size):
                xb = dalam.tensor(x[order[i:i + args.batch_size]])
                loss = F.binary_cross_entropy_with_logits(model(xb), xb, reduction="sum") / len(xb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            print(f"{name} epoch {epoch + 1}: train BCE {loss.item():.2f} nats/image "
                  f"({time.time() - t0:.0f} s)", flush=True)
        model.eval()
        with dalam.no_grad():
            rec = np.concatenate([model(dalam.tensor(xt[i:i + 1000])).sigmoid().numpy()
                                  for i in range(0, len(xt), 1000)])
        p = np.clip(rec, 1e-7, 1 - 1e-7)
        bce = float(-(xt * np.log(p) + (1 - xt) * np.log(1 - p)).sum((1, 2, 3)).mean())
        res[name] = {"test_bce_nats": round(bce, 2), "test_mse": float(((rec - xt) ** 2).mean()),
                     "params": sum(q.numel() for q in model.parameters()),
                     "seconds": round(time.time() - t0, 1)}
        save_image_grid(np.concatenate([xt[:16], rec[:16]]),
                        os.path.join(args.out, f"reconstructions_{name}.png"), nrow=16,
                        value_range=(0, 1), scale=2)
    save_results(args.out, res)


if __name__ == "__main__":
    main()
