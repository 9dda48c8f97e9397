"""``dalam.train``: ``fit`` (a Keras-style training loop for dalam models),
``Trainer``, ``History``, callbacks and resumable checkpoints.

    history = dalam.fit(model, train_loader, loss_fn, optimizer, epochs=5,
                        val_loader=val_loader, metrics=["accuracy"],
                        callbacks=[EarlyStopping(patience=2), ModelCheckpoint("ckpt")])
"""
from .callbacks import (Callback, LambdaCallback, EarlyStopping, CSVLogger,  # noqa: F401
                        LearningRateScheduler, TerminateOnNaN)
from .checkpoint import (ModelCheckpoint, load_checkpoint, latest_checkpoint,  # noqa: F401
                         find_checkpoint)
from .history import History  # noqa: F401
from .trainer import Trainer, fit, evaluate  # noqa: F401
from .tensorboard import TensorBoard, read_events  # noqa: F401

__all__ = ["fit", "evaluate", "Trainer", "History", "Callback", "LambdaCallback", "EarlyStopping", "CSVLogger",
           "LearningRateScheduler", "TerminateOnNaN", "ModelCheckpoint", "load_checkpoint",
           "latest_checkpoint", "find_checkpoint"]
