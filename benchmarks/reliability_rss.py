"""Memory over a long training run: RSS every 500 steps over 10,000 steps.

    python benchmarks/reliability_rss.py --steps 10000

An MLP on the embedded MNIST subset, Adam, a per-batch LR schedule, metrics,
and a resumable checkpoint every 500 steps (ModelCheckpoint, keep_last=2):
the RSS after the first 1,000 steps (warm) and at the end should be the same
within noise.  Prints one line per sample and a summary line.
"""
import argparse
import resource
import tempfile
import time


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--every", type=int, default=500)
    a = ap.parse_args()
    import dalam
    import dalam.nn as nn
    from dalam.data import DataLoader, TensorDataset
    from dalam.datasets import mnist_subset
    from dalam.train import Callback, ModelCheckpoint

    dalam.manual_seed(0)
    x, y = mnist_subset(train=True).as_tensors(flatten=True)
    loader = DataLoader(TensorDataset(x, y), batch_size=50, shuffle=True)  # 100 steps per epoch
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    opt = dalam.optim.Adam(model.parameters(), lr=1e-3)
    sched = dalam.optim.lr_scheduler.StepLR(opt, step_size=1000, gamma=0.9)
    samples = []
    t0 = time.perf_counter()

    class Sample(Callback):
        def on_batch_end(self, trainer, step, logs):
            if step % a.every == 0:
                samples.append((step, rss_mb()))
                print(f"step {step:6d}  RSS {samples[-1][1]:7.1f} MB  {time.perf_counter() - t0:6.1f} s",
                      flush=True)

    with tempfile.TemporaryDirectory() as d:
        dalam.fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=a.steps // len(loader), verbose=0,
                  metrics=["accuracy"], scheduler=sched, scheduler_interval="batch",
                  callbacks=[ModelCheckpoint(d, monitor="loss", save_freq=500, keep_last=2), Sample()])
    warm = [r for s, r in samples if s >= 1000]
    print(f"summary: {samples[-1][0]} steps, RSS at step 1000 {warm[0]:.1f} MB, at the end {warm[-1]:.1f} MB, "
          f"max {max(warm):.1f} MB, growth after warm-up {warm[-1] - warm[0]:+.1f} MB "
          f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
