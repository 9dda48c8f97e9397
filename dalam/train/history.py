"""``History``: what ``fit`` returns, Keras-style: ``history.history`` is a
dict of lists (one value per epoch: ``loss``, ``val_loss``, ``accuracy``,
``lr``...), ``history.epoch`` the epoch numbers, and ``plot(path)`` draws
the learning curves to a PNG."""
import math


class History:
    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        """Record one epoch's logs; keys first seen late are padded with NaN."""
        n = len(self.epoch)
        for k, v in logs.items():
            self.history.setdefault(k, [math.nan] * n).append(float(v))
        for k, vals in self.history.items():
            if len(vals) == n:
                vals.append(math.nan)
        self.epoch.append(int(epoch))

    def state_dict(self):
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state):
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __len__(self):
        return len(self.epoch)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def plot(self, path, keys=None, title=None):
        """Save learning curves to ``path`` (PNG): one panel per quantity
        (``loss``, ``accuracy``, ...), the training curve and, when present,
        the validation one (``val_<name>``).  ``keys`` picks the panels
        (default: every logged quantity but ``lr``).  Needs matplotlib."""
        try:
            from matplotlib.figure import Figure
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib "
                              "(or pip install dalam[plot])") from None
        if not self.epoch:
            raise ValueError("History.plot: nothing to plot, the history is empty (train first)")
        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k != "lr"]
            keys += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in self.history]
        else:
            keys = list(keys)
            missing = [k for k in keys if k not in self.history and f"val_{k}" not in self.history]
            if missing:
                raise KeyError(f"History.plot: no values logged for {missing}; logged: "
                               f"{sorted(self.history)}")
        n = len(keys)
        cols = min(n, 3)
        rows = -(-n // cols)
        fig = Figure(figsize=(4.2 * cols, 3.2 * rows))
        FigureCanvasAgg(fig)
        epochs = [e + 1 for e in self.epoch]
        for i, k in enumerate(keys):
            ax = fig.add_subplot(rows, cols, i + 1)
            if k in self.history:
                ax.plot(epochs, self.history[k], "o-", ms=3, label=f"train {k}")
            if f"val_{k}" in self.history:
                ax.plot(epochs, self.history[f"val_{k}"], "s--", ms=3, label=f"val {k}")
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(k)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(str(path), dpi=100)
        return path
