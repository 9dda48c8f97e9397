"""Progress display for ``fit``: a tqdm bar per epoch with the running loss
and metrics (``verbose=1`` in a terminal or a notebook), one line per epoch
(``verbose=2``, and ``verbose=1`` when the output goes to a file or a pipe,
as Keras does), or nothing (``verbose=0``).  tqdm is imported only when a
bar is shown."""
import sys
import time


def _in_notebook():
    """Running inside a Jupyter kernel (not merely with ipykernel imported, as nbclient does)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or half-imported
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _interactive():
    if _in_notebook():
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _columns():
    import os
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


def _fmt(logs):
    return " - ".join(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}" for k, v in logs.items())


class Progress:
    """One epoch's display; ``update(logs)`` per batch, ``close(logs)`` at the end."""

    def __init__(self, verbose, epoch, epochs, total, initial=0):
        if verbose == "auto":
            verbose = 1
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        self.mode = verbose
        self.epoch, self.epochs = epoch, epochs
        self.t0 = time.perf_counter()
        self.bar = None
        if verbose == 1 and _interactive():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.mode = 2  # no tqdm: fall back to one line per epoch
            else:
                sized = _columns() > 0  # a terminal that reports no width (0 columns): a fixed one
                self.bar = tqdm(total=total, initial=initial, desc=f"Epoch {epoch + 1}/{epochs}",
                                unit="batch", leave=True, dynamic_ncols=sized, ncols=None if sized else 100,
                                mininterval=0.2)
        elif verbose == 1:
            self.mode = 2  # not a terminal: one line per epoch, never silence

    def update(self, logs):
        if self.bar is not None:
            self.bar.set_postfix_str(" ".join(f"{k}={v:.4f}" for k, v in logs.items() if k != "lr"),
                                     refresh=False)
            self.bar.update(1)

    def abort(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self, logs):
        if self.bar is not None:  # the final bar: every training and validation figure
            keep = {k: v for k, v in logs.items() if k != "lr"}
            self.bar.set_postfix_str(" ".join(f"{k}={v:.4f}" for k, v in keep.items()), refresh=False)
            width = self.bar.ncols or _columns() or 100
            full = self.bar.format_meter(**dict(self.bar.format_dict, ncols=None))
            self.bar.close()
            if len(full) > width:  # the terminal cut the figures off: show them all on a line below
                print(f"  {_fmt(keep)}", file=sys.stderr, flush=True)
        elif self.mode == 2:
            print(f"Epoch {self.epoch + 1}/{self.epochs} - {time.perf_counter() - self.t0:.1f}s - "
                  f"{_fmt(logs)}", flush=True)
