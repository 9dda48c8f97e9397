"""Speech benchmarks, dalam vs PyTorch / librosa (CPU, float32, same thread count):

- the spectrogram CNN's training step (dalam.audio.models.SpectrogramCNN, width 16, batch 64,
  40 mels x 64 frames, AdamW) against the same network in torch (weights copied);
- CTC loss forward + backward (T=100, N=32, C=11, targets of 1-7 labels) against
  torch.nn.functional.ctc_loss;
- MelSpectrogram of a batch (32 recordings of 1 s at 8 kHz, n_fft 256, hop 80, 40 mels)
  against librosa.feature.melspectrogram (the oracle of the tests) and against torch.stft +
  the same filter bank (torchaudio cannot be installed beside torch 2.13).

    python benchmarks/bench_audio.py                  # 1 thread and 2 threads, one table each
    python benchmarks/bench_audio.py --threads 2 --repeats 5

Each figure is the best of ``--repeats`` timed runs (shared machines are noisy); ratio =
dalam time / other time (below 1: dalam is faster).
"""
import argparse
import json
import os
import subprocess
import sys

_ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_ap.add_argument("--threads", type=int, default=None, help="one thread count (default: 1 then 2)")
_ap.add_argument("--repeats", type=int, default=3)
_ap.add_argument("--json", default=None, help="write the rows here")
ARGS = _ap.parse_args() if __name__ == "__main__" else _ap.parse_args([])

if ARGS.threads is None and __name__ == "__main__":
    rows = []
    for th in (1, 2):
        r = subprocess.run([sys.executable, __file__, "--threads", str(th), "--repeats", str(ARGS.repeats)],
                           capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr[-2000:] if r.returncode else "")
        rows += [json.loads(l[5:]) for l in r.stdout.splitlines() if l.startswith("JSON ")]
    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump(rows, f, indent=1)
    sys.exit(0)

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads or 1)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dalam  # noqa: E402
import dalam.nn.functional as F  # noqa: E402
from dalam.audio.models import SpectrogramCNN  # noqa: E402
from dalam.audio import transforms as T  # noqa: E402

TH = ARGS.threads or 1
torch.set_num_threads(TH)


def _best(fn, repeats=ARGS.repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


class TorchCNN(tnn.Module):
    def __init__(self, c=16, n_classes=10):
        super().__init__()

        def block(i, o):
            return [tnn.Conv2d(i, o, 3, padding=1), tnn.BatchNorm2d(o), tnn.ReLU()]

        self.features = tnn.Sequential(*block(1, c), tnn.MaxPool2d(2), *block(c, 2 * c), tnn.MaxPool2d(2),
                                       *block(2 * c, 4 * c), tnn.MaxPool2d(2), *block(4 * c, 4 * c))
        self.dropout = tnn.Dropout(0.2)
        self.fc = tnn.Linear(4 * c * 2, n_classes)

    def forward(self, x):
        h = self.features(x.unsqueeze(1)).mean(2)
        return self.fc(self.dropout(torch.cat([h.mean(-1), h.amax(-1)], 1)))


def cnn_step():
    dalam.manual_seed(0)
    m = SpectrogramCNN(40, width=16)
    tm = TorchCNN(16)
    tm.load_state_dict({k: torch.tensor(v._data) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((64, 40, 64)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, 64)
    xd, yd, xt, yt = dalam.tensor(x), dalam.tensor(y), torch.tensor(x), torch.tensor(y)
    opt = dalam.optim.AdamW(m.parameters(), 1e-3)
    topt = torch.optim.AdamW(tm.parameters(), 1e-3)

    def d():
        loss = F.cross_entropy(m(xd), yd)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def t():
        loss = torch.nn.functional.cross_entropy(tm(xt), yt)
        topt.zero_grad()
        loss.backward()
        topt.step()
    return _best(d), _best(t)


def ctc():
    r = np.random.default_rng(0)
    Tn, N, C = 100, 32, 11
    x = r.standard_normal((Tn, N, C)).astype(np.float32)
    tl = r.integers(1, 8, N)
    tg = r.integers(1, C, (N, 7))
    il = np.full(N, Tn)

    def d():
        lp = dalam.tensor(x, requires_grad=True)
        F.ctc_loss(lp.log_softmax(-1), dalam.tensor(tg), dalam.tensor(il), dalam.tensor(tl)).backward()

    def t():
        lp = torch.tensor(x, requires_grad=True)
        torch.nn.functional.ctc_loss(lp.log_softmax(-1), torch.tensor(tg), torch.tensor(il),
                                     torch.tensor(tl)).backward()
    return _best(d), _best(t)


def mel():
    import librosa
    w = np.random.default_rng(0).standard_normal((32, 8000)).astype(np.float32) * 0.1
    mt = T.MelSpectrogram(8000, n_fft=256, hop_length=80, n_mels=40)
    wd = dalam.tensor(w)
    fb = torch.tensor(mt.mel_scale.fb.numpy())
    win = torch.hann_window(256)
    wt = torch.tensor(w)

    def d():
        with dalam.no_grad():
            mt(wd)

    def lr():
        librosa.feature.melspectrogram(y=w, sr=8000, n_fft=256, hop_length=80, n_mels=40, htk=True, norm=None,
                                       pad_mode="reflect")

    def t():
        s = torch.stft(wt, 256, 80, window=win, center=True, pad_mode="reflect", return_complex=True)
        (s.abs() ** 2).transpose(1, 2) @ fb
    return _best(d), _best(lr), _best(t)


def main():
    rows = []
    d, t = cnn_step()
    rows.append(("spectrogram CNN train step (B=64, 40x64)", d, "torch", t))
    d, t = ctc()
    rows.append(("CTC loss fwd+bwd (T=100, N=32, C=11)", d, "torch", t))
    d, lr, t = mel()
    rows.append(("MelSpectrogram batch (32 x 1 s, 8 kHz)", d, "librosa", lr))
    rows.append(("MelSpectrogram batch (32 x 1 s, 8 kHz)", d, "torch.stft+fb", t))
    print(f"\n{TH} thread(s)")
    print(f"| workload | dalam ms | reference | reference ms | ratio dalam/ref |")
    print("|---|---|---|---|---|")
    for name, d, ref, r in rows:
        print(f"| {name} | {d * 1e3:.2f} | {ref} | {r * 1e3:.2f} | {d / r:.2f} |")
        print("JSON " + json.dumps({"threads": TH, "workload": name, "dalam_ms": d * 1e3, "reference": ref,
                                    "reference_ms": r * 1e3, "ratio": d / r}))


if __name__ == "__main__":
    main()
