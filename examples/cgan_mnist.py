"""Conditional DCGAN on MNIST: the generator gets a label embedding next to z,
the discriminator is a projection discriminator.  Prints how often the trained
MNIST classifier recognises each generated digit as the requested one, the
MNIST-FID and the digit histogram; saves a 10-per-row grid (row = digit).

    python examples/cgan_mnist.py --epochs 2 --out runs/cgan
"""
from _gan_run import parse, run

if __name__ == "__main__":
    run("cgan", parse("cgan", __doc__, epochs=2, batch_size=64, train_size=60000))
