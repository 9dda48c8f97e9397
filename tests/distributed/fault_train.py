"""A small DDP training with fit() and step checkpoints, for the fault tests.

    dalam launch -n 2 [--max-restarts 1] fault_train.py CKPT_DIR OUT.safetensors [--kill-at S] [--raise-at S]

--kill-at S: rank 1 SIGKILLs itself after step S (first attempt only);
--raise-at S: rank 1 raises ValueError after step S (first attempt only)."""
import argparse
import os
import signal

import numpy as np

import dalam
import dalam.distributed as dist
import dalam.nn as nn
from dalam.data import DataLoader, DistributedSampler, TensorDataset
from dalam.distributed.launch import restart_count
from dalam.nn.parallel import DistributedDataParallel as DDP
from dalam.train import Callback, ModelCheckpoint


class Fault(Callback):
    def __init__(self, kill_at, raise_at):
        self.kill_at, self.raise_at = kill_at, raise_at

    def on_batch_end(self, trainer, step, logs):
        if dist.get_rank() != 1 or restart_count() > 0:
            return
        if step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if step == self.raise_at:
            raise ValueError(f"injected failure at step {step}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--kill-at", type=int, default=-1)
    ap.add_argument("--raise-at", type=int, default=-1)
    a = ap.parse_args()
    dist.init_process_group("mpi")
    dalam.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    data = TensorDataset(dalam.tensor(x), dalam.tensor(y))
    loader = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, seed=1))
    model = DDP(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2)))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-2)
    hist = dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=3, metrics=["accuracy"], verbose=2,
                     callbacks=[Fault(a.kill_at, a.raise_at), ModelCheckpoint(a.ckpt, monitor="loss",
                                                                              save_freq=4)],
                     resume=True)
    if dist.get_rank() == 0:
        dalam.save(model.module.state_dict(), a.out)
        print("FINAL", hist.history["loss"][-1], hist.history["accuracy"][-1], flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
