"""The ``dalam`` command: train, evaluate, predict, summarise, generate,
embed, benchmark and export models from the shell.

    dalam train configs/mnist_cnn.toml        dalam eval runs/mnist_cnn
    dalam predict runs/mnist_cnn digit.png    dalam summary lenet5
    dalam generate runs/char_lstm --prompt "ROMEO:"
    dalam embed "a sentence" "another" -o emb.npy
    dalam bench --quick                       dalam export runs/mnist_cnn --onnx m.onnx

Each subcommand lives in its own module and is imported only when run, so
``dalam --help`` is instant."""
from .main import main, CLIError  # noqa: F401

__all__ = ["main", "CLIError"]
