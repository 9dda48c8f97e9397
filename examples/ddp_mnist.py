"""Data-parallel training, written the way a PyTorch DDP script is: a CNN with
BatchNorm on the MNIST subset shipped with dalam, on N processes.

    dalam launch -n 2 examples/ddp_mnist.py                    # 2 ranks, 3 epochs
    dalam launch -n 2 --max-restarts 1 examples/ddp_mnist.py   # survives a killed rank
    python examples/ddp_mnist.py                               # 1 process, the same result

Each rank trains on its share of every batch (DistributedSampler); the
gradients are averaged by DistributedDataParallel during backward; BatchNorm
statistics span all ranks (SyncBatchNorm), so N ranks with batch 64/N train
like one process with batch 64.  Rank 0 prints and writes the checkpoints;
resume=True continues from the last one after a restart.
"""
import argparse

import dalam
import dalam.distributed as dist
import dalam.nn as nn
from dalam.data import DataLoader, DistributedSampler, TensorDataset
from dalam.datasets import MNIST
from dalam.nn.parallel import DistributedDataParallel as DDP
from dalam.train import ModelCheckpoint

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--batch-size", type=int, default=64, help="the global batch, split over the ranks")
ap.add_argument("--checkpoints", default="runs/ddp_mnist")
ap.add_argument("--train-size", type=int, default=5000, help="use the first N training images (quick runs)")
args = ap.parse_args()

if dist.launched_by_mpi():
    dist.init_process_group("mpi")
else:
    dist.init_process_group("mpi", world_size=1, rank=0)  # a plain `python examples/ddp_mnist.py`
rank, world = dist.get_rank(), dist.get_world_size()

x, y = MNIST(train=True, subset=True).as_tensors()
xv, yv = MNIST(train=False, subset=True).as_tensors()
train = TensorDataset(x[:args.train_size], y[:args.train_size])
val = TensorDataset(xv[rank::world], yv[rank::world])  # each rank validates its own share
loader = DataLoader(train, batch_size=args.batch_size // world, sampler=DistributedSampler(train, seed=0))
val_loader = DataLoader(val, batch_size=256)

dalam.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(model))
optimizer = dalam.optim.Adam(model.parameters(), lr=2e-3)

history = dalam.fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=args.epochs, val_loader=val_loader,
                    metrics=["accuracy"], callbacks=[ModelCheckpoint(args.checkpoints)],
                    resume=True)
if rank == 0:
    print(f"{world} process(es): val_accuracy {history.history['val_accuracy'][-1]:.4f}")
dist.destroy_process_group()
