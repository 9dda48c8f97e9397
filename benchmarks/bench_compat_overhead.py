"""What `dalam run` costs: the same PyTorch-style training step timed as dalam code
and under the import hook (``import torch`` answered by dalam; shapes become
torch.Size).  Each mode runs in its own process; best of REPEATS, CPU time.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_compat_overhead.py [--steps 300]
"""
import argparse
import subprocess
import sys

STEP = """
import sys, time
mode, steps = sys.argv[1], int(sys.argv[2])
if mode == "hook":
    import dalam.compat
    dalam.compat.install()
    import torch
else:
    import dalam as torch
nn, F = torch.nn, torch.nn.functional
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(8 * 14 * 14, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
best = float("inf")
for rep in range(3):
    t = time.process_time()
    for _ in range(steps):
        out = model(x.view(x.size(0), 1, 28, 28))
        loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    best = min(best, time.process_time() - t)
print(best / steps)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    t = {}
    for mode in ("dalam", "hook"):
        r = subprocess.run([sys.executable, "-c", STEP, mode, str(a.steps)], capture_output=True, text=True,
                           check=True)
        t[mode] = float(r.stdout)
    print(f"training step, small CNN, batch 32: dalam {t['dalam'] * 1e3:.3f} ms, under dalam run's hook "
          f"{t['hook'] * 1e3:.3f} ms, ratio {t['hook'] / t['dalam']:.3f}")


if __name__ == "__main__":
    main()
