"""Collectives and DDP features, checked under `mpiexec -n 2`; each rank prints `OK <check>`."""
import numpy as np

import dalam
import dalam.distributed as dist
import dalam.nn as nn
import dalam.nn.functional as F
from dalam.data import DistributedSampler
from dalam.nn.parallel import DistributedDataParallel as DDP


def ok(name):
    print(f"OK rank {dist.get_rank()} {name}", flush=True)


def collectives(rank, world):
    t = dalam.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t)
    assert t.tolist() == [3.0, 6.0], t
    t = dalam.tensor([float(rank + 1)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    assert t.item() == world
    t = dalam.tensor([2.0, 4.0]) * (rank + 1)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert t.tolist() == [3.0, 6.0]
    w = dalam.arange(6).reshape(2, 3).t()  # not contiguous: goes through a copy and back
    dist.all_reduce(w)
    assert (w.numpy() == 2 * np.arange(6).reshape(2, 3).T).all()
    work = dist.all_reduce(dalam.ones(3), async_op=True)
    assert work.wait()
    b = dalam.full((3,), float(rank))
    dist.broadcast(b, src=1)
    assert b.tolist() == [1.0] * 3
    parts = [dalam.zeros(2) for _ in range(world)]
    dist.all_gather(parts, dalam.full((2,), float(rank)))
    assert [p.tolist() for p in parts] == [[float(r)] * 2 for r in range(world)]
    out = dalam.zeros(2)
    dist.reduce_scatter(out, [dalam.full((2,), float(10 * r + rank)) for r in range(world)])
    assert out.tolist() == [float(10 * rank * world + sum(range(world)))] * 2, out
    out = dalam.zeros(2, 3)
    dist.reduce_scatter_tensor(out, dalam.arange(6 * world, dtype=dalam.float32).reshape(2 * world, 3))
    assert out.tolist() == (world * np.arange(6 * world).reshape(2 * world, 3)[2 * rank:2 * rank + 2]).tolist()
    big = dalam.zeros(2 * world)
    dist.all_gather_into_tensor(big, dalam.full((2,), float(rank)))
    assert big.tolist() == sum([[float(r)] * 2 for r in range(world)], [])
    try:
        dist.all_reduce(dalam.ones(1), group=object())
        raise AssertionError("a foreign group was accepted")
    except ValueError as e:
        assert "one process group" in str(e)
    dist.all_reduce(dalam.ones(1), group=dist.group.WORLD)
    objs = [None] * world
    dist.all_gather_object(objs, {"rank": rank})
    assert objs == [{"rank": r} for r in range(world)]
    dist.barrier()
    ok("collectives")


def sampler(rank, world):
    data = list(range(11))
    mine = list(DistributedSampler(data, shuffle=False))  # rank and size from the process group
    assert mine == [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 0]][rank], mine  # padded with the first index
    everyone = [list(DistributedSampler(data, num_replicas=world, rank=r, seed=5)) for r in range(world)]
    perm = np.random.default_rng(5).permutation(11).tolist()
    assert sorted(sum(everyone, [])) == sorted(perm + perm[:1])
    s = DistributedSampler(data, seed=5, drop_last=True)
    assert len(s) == 5 and len(list(s)) == 5
    a = list(s)
    s.set_epoch(1)
    assert list(s) != a
    ok("sampler")


def no_sync_accumulates(rank, world):
    dalam.manual_seed(rank)
    model = DDP(nn.Linear(4, 3))
    x = [dalam.randn(2, 4) for _ in range(2)]
    with model.no_sync():
        model(x[0]).sum().backward()
    local = model.module.weight.grad.numpy().copy()  # not averaged: ranks differ
    gathered = [dalam.zeros(local.shape) for _ in range(world)]
    dist.all_gather(gathered, dalam.tensor(local))
    assert not np.allclose(gathered[0].numpy(), gathered[1].numpy())
    model(x[1]).sum().backward()
    g = model.module.weight.grad.numpy()
    # every rank: the average over ranks of (its two local backwards)
    mine = dalam.tensor(local + (x[1].sum(0, keepdim=True).expand(3, 4)).numpy())
    dist.all_reduce(mine, op=dist.ReduceOp.AVG)
    np.testing.assert_allclose(g, mine.numpy(), rtol=1e-6)
    ok("no_sync")


def buffers_follow_rank0(rank, world):
    dalam.manual_seed(0)
    model = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    opt = dalam.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(dalam.randn(8, 3) + rank).sum().backward()  # each rank's own statistics
        opt.step()
    model.eval()
    model(dalam.randn(2, 3))  # a forward with grad enabled broadcasts rank 0's buffers
    rm = model.module[1].running_mean
    gathered = [dalam.zeros(4) for _ in range(world)]
    dist.all_gather(gathered, rm.detach())
    assert np.array_equal(gathered[0].numpy(), gathered[1].numpy())
    ok("buffers")


def unused_parameters(rank, world):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.never = nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(3, 2)

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)
    dalam.manual_seed(0)
    model = DDP(Branchy(), find_unused_parameters=True)
    x = dalam.ones(1, 3)
    model(x, use_b=(rank == 0)).sum().backward()  # b used on rank 0 only
    gb = model.module.b.weight.grad.numpy()
    np.testing.assert_allclose(gb, np.ones((2, 3)) / world)  # rank 0's gradient, averaged with zeros
    assert model.module.never.weight.grad is None  # no rank used it: left alone
    ok("find_unused_parameters")


def flat_optimizer_sees_averaged_grads(rank, world):
    dalam.manual_seed(0)
    net = nn.Sequential(*[nn.Linear(4, 4) for _ in range(4)])  # small tensors: Adam's flat path
    model = DDP(net)
    opt = dalam.optim.Adam(model.parameters(), lr=0.1, foreach=True)
    before = [p.detach().numpy().copy() for p in net.parameters()]
    model(dalam.ones(2, 4) * (rank + 1)).sum().backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    opt.step()
    after = [p.detach().numpy() for p in net.parameters()]
    # the same averaged gradients and the same update on every rank
    flat = np.concatenate([a.ravel() for a in after] + [g.ravel() for g in grads])
    gathered = [dalam.zeros(flat.size) for _ in range(world)]
    dist.all_gather(gathered, dalam.tensor(flat))
    assert all(np.array_equal(g.numpy(), flat) for g in gathered)
    assert any(not np.array_equal(a, b) for a, b in zip(after, before))
    assert opt._flat_cache  # the update really ran on the flat buffers
    ok("flat optimizer")


def buckets_in_reverse_order(rank, world):
    net = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512), nn.Linear(512, 10))
    model = DDP(net, bucket_cap_mb=1)
    names = model.bucket_params
    assert names[0][0] == "2.bias" and names[-1][-1] == "0.weight", names  # reverse parameter order
    # the first bucket closes once it holds 1 MiB, the next ones at bucket_cap_mb
    assert names == [["2.bias", "2.weight", "1.bias", "1.weight"], ["0.bias", "0.weight"]], names
    trace = model.enable_bucket_trace()
    F.cross_entropy(model(dalam.randn(16, 512)), dalam.randint(0, 10, (16,))).backward()
    assert len(trace) == len(names) and all(e["start"] is not None for e in trace)
    assert trace[0]["start"] < trace[0]["backward_end"]  # the first bucket left during backward
    ok("buckets")


def main():
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and world == 2
    for check in (collectives, sampler, no_sync_accumulates, buffers_follow_rank0, unused_parameters,
                  flat_optimizer_sees_averaged_grads, buckets_in_reverse_order):
        check(rank, world)
    dist.destroy_process_group()
    assert not dist.is_initialized()


if __name__ == "__main__":
    main()
