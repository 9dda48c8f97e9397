"""Speech end to end as a user runs it: the examples' --quick runs write run
folders, then `dalam transcribe` / `dalam predict` read real FSDD recordings,
and bad audio input gets one clear line naming the file."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("soundfile")
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(args, timeout=180):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    d = tmp_path_factory.mktemp("speech")
    for script, name in (("speech_ctc.py", "ctc"), ("speech_digits.py", "cnn")):
        r = _run([f"examples/{script}", "--quick", "--root", data_dir, "--out", str(d / name)])
        assert r.returncode == 0, r.stdout + r.stderr
    return d


def _rec(data_dir, name):
    return str(pathlib.Path(data_dir) / "fsdd" / "recordings" / name)


def test_quick_examples_write_run_folders(runs):
    m = json.loads((runs / "ctc" / "metrics.json").read_text())
    assert m["n_test"] == 16 and 0 <= m["greedy"]["sequence_accuracy"] <= 1
    assert (runs / "ctc" / "alignment.png").stat().st_size > 10_000
    m = json.loads((runs / "cnn" / "metrics.json").read_text())
    assert set(m["folds"]["official"]["per_speaker"]) == {"george", "jackson", "lucas", "nicolas", "theo",
                                                          "yweweler"}
    assert (runs / "cnn" / "confusion.png").is_file()
    cfg = json.loads((runs / "cnn" / "config.json").read_text())
    assert cfg["kind"] == "digits" and cfg["frontend"]["sample_rate"] == 8000


def test_transcribe_and_predict_real_recordings(runs, data_dir, tmp_path):
    import soundfile as sf
    r = _run(["-m", "dalam.cli", "transcribe", str(runs / "ctc"), _rec(data_dir, "3_theo_0.wav"), "--json",
              "--beam", "4"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["file"].endswith("3_theo_0.wav") and set(out["digits"]) <= set("0123456789")
    r = _run(["-m", "dalam.cli", "predict", str(runs / "cnn"), _rec(data_dir, "7_lucas_1.wav"), "--json"])
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert 0 <= out["prediction"] <= 9 and abs(sum(t["probability"] for t in out["top"])) <= 1 + 1e-6
    # a 44.1 kHz copy is resampled to the model's 8 kHz and says so
    x, sr = sf.read(_rec(data_dir, "3_theo_0.wav"))
    import soxr
    sf.write(tmp_path / "hi.wav", soxr.resample(x, sr, 44100), 44100)
    r = _run(["-m", "dalam.cli", "transcribe", str(runs / "ctc"), str(tmp_path / "hi.wav")])
    assert r.returncode == 0 and "resampled 44100 Hz -> 8000 Hz" in r.stdout, r.stdout + r.stderr


def test_bad_audio_input(runs, tmp_path):
    import soundfile as sf
    (tmp_path / "notes.txt").write_text("not audio")
    sf.write(tmp_path / "stereo.wav", np.zeros((800, 2)), 8000)
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    sf.write(tmp_path / "short.wav", np.zeros((50, 1)), 8000)
    cases = {"notes.txt": "not a readable audio file", "stereo.wav": "2 channels, expected mono",
             "empty.wav": "the recording is empty", "short.wav": "only 50 samples",
             "missing.wav": "no such audio file"}
    for name, msg in cases.items():
        r = _run(["-m", "dalam.cli", "transcribe", str(runs / "ctc"), str(tmp_path / name)])
        assert r.returncode != 0 and name in r.stderr and msg in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr
    r = _run(["-m", "dalam.cli", "transcribe", str(runs / "ctc"), str(tmp_path / "stereo.wav"), "--mix-down"])
    assert r.returncode == 0, r.stderr
    r = _run(["-m", "dalam.cli", "transcribe", str(tmp_path), str(tmp_path / "stereo.wav")])
    assert r.returncode != 0 and "no config.json" in r.stderr
