"""The playground's speed: one training step (dalam vs PyTorch, same network,
same batch), one frame's pictures, the frame rate a tab receives from a real
server over its WebSocket, and the per-tab rate with 20 tabs training at once.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_playground.py            # ~1 minute
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_playground.py --seconds 5 --sessions 20
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import numpy as np  # noqa: E402

from dalam.playground.bridge import DEFAULT_CONFIG, Playground  # noqa: E402

NETS = {"default 2-4-2-1": dict(hidden=[4, 2]),
        "spiral 4-12-12-1": dict(hidden=[12, 12], features=["x1", "x2", "sin(x1)", "sin(x2)"]),
        "largest 7-(16x8)-1": dict(hidden=[16] * 8, features=["x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)"])}


def _median_time(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def torch_step_time(cfg, repeat):
    """The same step in PyTorch (Linear/Tanh stack, BCEWithLogits, Adam, batch 10)."""
    import torch
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1")))
    widths = [len(cfg["features"])] + cfg["hidden"]
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    x = torch.randn(cfg["batch_size"], widths[0])
    y = (torch.rand(cfg["batch_size"]) > 0.5).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        loss = loss_fn(model(x)[:, 0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
    for _ in range(20):
        step()
    return _median_time(step, repeat)


def bench_compute(repeat):
    print("| network | dalam step (us) | PyTorch step (us) | dalam / PyTorch | frame pictures (ms) |")
    print("|---|---|---|---|---|")
    for name, kw in NETS.items():
        pg = Playground({**DEFAULT_CONFIG, **kw})
        pg.train_steps(20)
        step = _median_time(lambda: pg.train_steps(1), repeat)
        frame = _median_time(pg.frame, max(20, repeat // 20))
        try:
            ts = torch_step_time(pg.config, repeat)
            tcol, ratio = f"{ts * 1e6:.0f}", f"{step / ts:.2f}"
        except ImportError:
            tcol, ratio = "n/a", "n/a"
        print(f"| {name} | {step * 1e6:.0f} | {tcol} | {ratio} | {frame * 1e3:.2f} |")


async def _tab(http, url, cfg, seconds, pings):
    """One browser tab's traffic: configure, play, count frames; ping while playing."""
    import aiohttp
    async with http.ws_connect(url + "/ws", max_msg_size=0) as ws:
        await ws.send_str(json.dumps({"type": "config", "config": cfg, "id": 1}))
        while True:                                           # wait for the new model
            m = json.loads((await ws.receive()).data)
            if m.get("id") == 1:
                break
        await ws.send_str(json.dumps({"type": "play"}))
        frames, steps0, t0, last, rtts = 0, None, None, None, []
        ping_sent = None
        while True:
            m = await ws.receive()
            if m.type != aiohttp.WSMsgType.TEXT:
                break
            msg = json.loads(m.data)
            now = time.perf_counter()
            if msg["type"] == "frame":
                if t0 is None:
                    t0, steps0 = now, msg["step"]
                else:
                    frames += 1
                last = msg
                if pings and ping_sent is None and frames % 5 == 0:
                    ping_sent = now
                    await ws.send_str(json.dumps({"type": "ping", "id": 7}))
            elif msg["type"] == "pong":
                rtts.append(now - ping_sent)
                ping_sent = None
            if t0 is not None and now - t0 >= seconds:
                break
        await ws.send_str(json.dumps({"type": "pause"}))
        dt = time.perf_counter() - t0
        return frames / dt, (last["step"] - steps0) / dt, rtts


async def _tabs(url, cfg, n, seconds):
    import aiohttp
    async with aiohttp.ClientSession() as http:
        return await asyncio.gather(*[_tab(http, url, cfg, seconds, pings=True) for _ in range(n)])


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def bench_server(seconds, sessions):
    from playground_helpers import running_server
    with running_server() as (url, proc):
        print("\n| tabs training at once | network | frames/s per tab (min / median) | steps/s per tab (median) "
              "| ping reply while training (median / p95 ms) | server CPU (% of one core) |")
        print("|---|---|---|---|---|---|")
        for n, name in ((1, "default 2-4-2-1"), (1, "largest 7-(16x8)-1"), (sessions, "default 2-4-2-1"),
                        (sessions, "largest 7-(16x8)-1")):
            cpu0, t0 = _cpu_seconds(proc.pid), time.perf_counter()
            res = asyncio.run(_tabs(url, NETS[name], n, seconds))
            cpu = 100 * (_cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0)
            fps = sorted(r[0] for r in res)
            sps = statistics.median(r[1] for r in res)
            rtt = sorted(x for r in res for x in r[2]) or [float("nan")]
            p95 = rtt[min(len(rtt) - 1, int(0.95 * len(rtt)))]
            print(f"| {n} | {name} | {fps[0]:.1f} / {statistics.median(fps):.1f} | {sps:.0f} | "
                  f"{statistics.median(rtt) * 1e3:.0f} / {p95 * 1e3:.0f} | {cpu:.0f} |")
            time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds of streaming per measurement")
    ap.add_argument("--sessions", type=int, default=20, help="tabs training at once in the load test")
    ap.add_argument("--repeat", type=int, default=300, help="timed repetitions of one step")
    args = ap.parse_args()
    print(f"# playground benchmark: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, numpy {np.__version__}\n")
    bench_compute(args.repeat)
    bench_server(args.seconds, args.sessions)


if __name__ == "__main__":
    main()
