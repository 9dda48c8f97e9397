"""Run under `mpiexec -n N`: N-process DDP training with per-rank batch B must give
the parameters of 1-process training with batch N*B (float64, 20 Adam steps), for
an MLP, a CNN with BatchNorm (SyncBatchNorm under DDP) and an LSTM.  Rank 0 also
trains the 1-process reference and prints one line per model."""
import copy
import sys

import numpy as np

import dalam
import dalam.distributed as dist
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.data import DataLoader, DistributedSampler, Subset, TensorDataset
from dalam.nn.parallel import DistributedDataParallel as DDP

STEPS, B = 20, 4


class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def models():
    yield "mlp", lambda: nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                                       nn.Linear(16, 4)), (6,)
    yield "cnn_bn", lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 4)), (2, 8, 8)
    yield "lstm", LSTMNet, (5, 3)


def batches(loader, steps):
    out = []
    while len(out) < steps:
        for b in loader:
            out.append(b)
            if len(out) == steps:
                break
    return out


def main():
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    dalam.set_default_dtype(dalam.float64)
    worst = 0.0
    for name, make, shape in models():
        rng = np.random.default_rng(1)
        n = STEPS * world * B
        x = rng.standard_normal((n,) + shape)
        y = rng.integers(0, 4, n)
        data = TensorDataset(dalam.tensor(x), dalam.tensor(y))
        dalam.manual_seed(rank + 10)  # different init per rank: DDP must broadcast rank 0's
        model = make()
        if rank == 0:
            reference = copy.deepcopy(model)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp = DDP(model)
        opt = dalam.optim.Adam(ddp.parameters(), lr=1e-2)
        sampler = DistributedSampler(data, shuffle=True, seed=3, drop_last=True)
        for xb, yb in batches(DataLoader(data, batch_size=B, sampler=sampler), STEPS):
            opt.zero_grad()
            F.cross_entropy(ddp(xb), yb).backward()
            opt.step()
        if rank == 0:
            perm = list(DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=3)._index_array())
            ref_loader = DataLoader(Subset(data, perm), batch_size=B * world, shuffle=False)
            ropt = dalam.optim.Adam(reference.parameters(), lr=1e-2)
            for xb, yb in batches(ref_loader, STEPS):
                ropt.zero_grad()
                F.cross_entropy(reference(xb), yb).backward()
                ropt.step()
            got, want = model.state_dict(), reference.state_dict()
            assert got.keys() == want.keys(), (got.keys(), want.keys())
            rel = 0.0
            for k in want:
                a, b = got[k].detach().numpy().astype(np.float64), want[k].detach().numpy().astype(np.float64)
                rel = max(rel, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)))
            moved = max(float(np.abs(got[k].detach().numpy() - p).max()) for k, p in
                        ((k, v.detach().numpy()) for k, v in make().state_dict().items()) if k in got)
            print(f"EQUIV {name} world={world} max_rel_diff={rel:.3e} moved={moved:.3e}", flush=True)
            worst = max(worst, rel)
        # the ranks agree with each other too
        flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
        gathered = [dalam.zeros(flat.size, dtype=dalam.float64) for _ in range(world)]
        dist.all_gather(gathered, dalam.tensor(flat))
        if any(not np.array_equal(g.numpy(), flat) for g in gathered):
            raise SystemExit(f"rank {rank}: {name} parameters differ between ranks")
    dist.destroy_process_group()
    if rank == 0 and worst > 1e-6:
        raise SystemExit(f"equivalence failed: max relative difference {worst:.3e} > 1e-6")


if __name__ == "__main__":
    sys.exit(main())
