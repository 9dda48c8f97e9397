"""DCGAN on MNIST (ConvTranspose generator, strided-conv discriminator with
BatchNorm and LeakyReLU), non-saturating loss with one-sided label smoothing,
or ``--loss wgan-gp``.  Prints the MNIST-FID of its samples next to the FID of
real held-out test images and of the untrained generator; saves progress
grids (fixed noise), an interpolation grid and results.json under --out.

    python examples/dcgan_mnist.py --epochs 2 --out runs/dcgan
    python examples/dcgan_mnist.py --subset --epochs 1 --max-steps 50   # a quick look
"""
from _gan_run import parse, run

if __name__ == "__main__":
    run("dcgan", parse("dcgan", __doc__, epochs=2, batch_size=64, train_size=60000))
