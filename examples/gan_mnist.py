"""The original fully connected GAN on MNIST (MLP generator and discriminator,
LeakyReLU, tanh output), non-saturating loss.  Prints its MNIST-FID next to
real test images and the untrained generator; saves PNGs under --out.

    python examples/gan_mnist.py --epochs 5 --out runs/gan
"""
from _gan_run import parse, run

if __name__ == "__main__":
    run("gan", parse("gan", __doc__, epochs=5, batch_size=64, train_size=60000))
