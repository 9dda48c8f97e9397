"""The ``dalam`` command end to end, in temporary directories, as a user runs
it (``python -m dalam.cli``, a fresh process each time): train on the embedded
MNIST subset, kill and resume (bit-identical to an uninterrupted run), eval,
predict on a PNG, summary, generate (a char-LSTM trained here and a GPT
checkpoint made here), embed (MiniLM), bench --quick, export (ONNX run in
onnxruntime, single .safetensors file), and the bad inputs that must end as
one line on stderr with a non-zero exit and no traceback."""
import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import dalam
from dalam.cli import main
from dalam.cli.checkpoint import load_model, save_single_file

ROOT = pathlib.Path(__file__).resolve().parents[1]

MLP_CONFIG = """
[dataset]
name = "mnist"
subset = true
limit = {limit}
val_limit = 200

[model]
name = "mlp"
hidden = [32]

[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9

[schedule]
name = "step"
step_size = 1
gamma = 0.5

[train]
epochs = {epochs}
batch_size = 50
save_every = {save_every}
checkpoint_dir = "{ckpt}"
"""

CHAR_CONFIG = """
[dataset]
name = "text"
path = "{path}"
block_size = 16

[model]
name = "char_rnn"
embed_dim = 8
hidden_size = 32

[optimizer]
name = "adam"
lr = 0.02

[train]
epochs = 2
batch_size = 16
checkpoint_dir = "{ckpt}"
log_dir = "tb"
"""


def _env():
    # one BLAS thread: small GEMMs on a loaded 2-core machine are far slower with more
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def cli(*args, cwd, check=True, timeout=120):
    """Run ``python -m dalam.cli ARGS`` in a fresh process."""
    env = _env()
    r = subprocess.run([sys.executable, "-m", "dalam.cli", *map(str, args)], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, f"dalam {' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr}"
    return r


def one_line_error(r, *words):
    """Exit status 1, exactly one line on stderr naming the problem, no traceback."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def image_run(work):
    """A 1-epoch MLP trained by ``dalam train`` on 500 images of the embedded subset."""
    cfg = work / "mlp.toml"
    cfg.write_text(MLP_CONFIG.format(limit=500, epochs=1, save_every='"epoch"', ckpt="mlp_run"))
    r = cli("train", cfg, "--quiet", cwd=work)
    assert "done: 1 epoch(s)" in r.stdout
    return work / "mlp_run"


@pytest.fixture(scope="module")
def char_run(work):
    text = "".join("hello world, this is dalam. " if i % 2 else "the quick brown fox jumps. "
                   for i in range(40))
    (work / "corpus.txt").write_text(text)
    cfg = work / "char.toml"
    cfg.write_text(CHAR_CONFIG.format(path="corpus.txt", ckpt="char_run"))
    cli("train", cfg, "--quiet", cwd=work)
    return work / "char_run"


# ---------------------------------------------------------------- entry point and help
def test_console_script_declared():
    from dalam.cli.config import toml_module
    with open(ROOT / "pyproject.toml", "rb") as f:
        meta = toml_module().load(f)
    assert meta["project"]["scripts"]["dalam"] == "dalam.cli:main"
    assert callable(main)


@pytest.mark.parametrize("command", [None, "train", "eval", "predict", "summary", "generate", "embed",
                                     "bench", "export"])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as e:
        main(([command] if command else []) + ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: dalam") and "--debug" in out


# ---------------------------------------------------------------- train / eval / predict
def test_train_writes_a_self_describing_checkpoint(image_run):
    meta = json.loads((image_run / "dalam.json").read_text())
    assert meta["model"] == {"name": "mlp", "args": {"in_features": 784, "hidden": [32], "num_classes": 10,
                                                     "activation": "relu", "dropout": 0.0}}
    assert meta["preprocess"]["kind"] == "image" and meta["preprocess"]["height"] == 28
    assert meta["dataset"]["name"] == "mnist" and meta["dataset"]["subset"] is True
    assert (image_run / "checkpoint.json").is_file()
    rows = history(image_run / "history.csv")
    assert len(rows) == 1 and float(rows[0]["val_accuracy"]) > 0.5


def test_validation_is_carved_from_training_and_test_is_reported_once(image_run, work):
    # validation: 10% of the training images (seeded), never the test set; test evaluated once at the end
    test = json.loads((image_run / "test.json").read_text())
    assert test["examples"] == 1000
    val = history(image_run / "history.csv")[-1]
    assert val["epoch"] == "1"  # epochs count from 1 in files, as on screen
    assert float(val["val_loss"]) != pytest.approx(test["loss"], rel=1e-3)
    assert (image_run / "curves.png").is_file()
    # dalam eval reproduces the test figures of training, prints the confusion matrix, draws the PNGs
    r = cli("eval", image_run, "--json", cwd=work)
    res = json.loads(r.stdout)
    assert res["examples"] == 1000
    assert res["loss"] == pytest.approx(test["loss"], rel=1e-5)
    assert res["accuracy"] == pytest.approx(test["accuracy"], abs=1e-9)
    cm = np.array(res["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 1000 and np.trace(cm) == round(1000 * res["accuracy"])
    r = cli("eval", image_run, "--limit", "200", "--out", work / "eval_pngs", cwd=work)
    assert "confusion matrix (rows: true class" in r.stdout
    for name in ("confusion.png", "worst_mistakes.png"):
        assert (work / "eval_pngs" / name).stat().st_size > 1000


def _png(path, arr):
    from PIL import Image
    Image.fromarray(arr).save(path)


def test_predict_png_matches_the_model(image_run, work):
    ds = dalam.datasets.MNIST(train=False, subset=True)
    for i in range(3):
        _png(work / f"digit{i}.png", ds.data[i])
    r = cli("predict", image_run, *[f"digit{i}.png" for i in range(3)], "--json", "--top-k", "2", "--exact",
            cwd=work)
    preds = [json.loads(line) for line in r.stdout.splitlines()]
    model, _, _ = load_model(image_run)
    x, _ = ds.as_tensors()
    with dalam.no_grad():
        expected = model(x[:3])._data.argmax(1)
    assert [p["prediction"] for p in preds] == expected.tolist()
    assert all(len(p["top"]) == 2 and 0 <= p["top"][1]["probability"] <= p["top"][0]["probability"] <= 1
               for p in preds)


# ---------------------------------------------------------------- kill and resume
def test_kill_and_resume_is_bit_identical(work):
    cfg = work / "resume.toml"
    cfg.write_text(MLP_CONFIG.format(limit=600, epochs=3, save_every=5, ckpt="resume_run"))
    env = _env()
    p = subprocess.Popen([sys.executable, "-m", "dalam.cli", "train", str(cfg), "--quiet"], cwd=work,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pointer = work / "resume_run" / "checkpoint.json"
    t0 = time.time()
    while not pointer.exists() and p.poll() is None and time.time() - t0 < 60:
        time.sleep(0.005)
    p.kill()
    p.wait()
    assert p.returncode == -9, "the run ended before it could be killed"
    saved = json.loads(pointer.read_text())
    assert saved["global_step"] < 36  # killed before the end of 3 epochs of 12 steps
    r = cli("train", cfg, "--resume", "--quiet", cwd=work)
    assert "resuming from" in r.stderr and f"step {saved['global_step']})" in r.stderr
    resumed = history(work / "resume_run" / "history.csv")
    # saved every 5 steps and at the end of every epoch: the final state is on disk
    assert json.loads(pointer.read_text())["global_step"] == 36
    # the same run without the kill
    cfg2 = work / "straight.toml"
    cfg2.write_text(MLP_CONFIG.format(limit=600, epochs=3, save_every=5, ckpt="straight_run"))
    cli("train", cfg2, "--quiet", cwd=work)
    straight = history(work / "straight_run" / "history.csv")
    assert len(resumed) == len(straight) == 3
    assert resumed == straight  # every logged number, to the last digit
    # without --resume a directory holding checkpoints is refused, not overwritten
    one_line_error(cli("train", cfg, cwd=work, check=False), "--resume", "--overwrite")


# ---------------------------------------------------------------- summary
def test_summary_of_a_name_a_config_and_a_checkpoint(image_run, work):
    r = cli("summary", "lenet5", cwd=work)
    assert "Total params: 61,706" in r.stdout and "Mult-Adds" in r.stdout and "(MiB)" in r.stdout
    d = json.loads(cli("summary", image_run, "--json", cwd=work).stdout)
    assert d["total_params"] == 784 * 32 + 32 + 32 * 10 + 10
    assert d["total_mult_adds"] == 784 * 32 + 32 * 10
    assert d["param_bytes"] == 4 * d["total_params"]
    d = json.loads(cli("summary", "gpt", "--arg", "n_layer=1", "--arg", "n_embd=32", "--arg", "n_head=2",
                       "--arg", "block_size=8", "--json", cwd=work).stdout)
    assert [r["shape"] for r in d["layers"]][0] == [1, 8, 65]
    d = json.loads(cli("summary", ROOT / "configs" / "mnist_cnn.toml", "--json", cwd=work).stdout)
    assert d["layers"][-1]["shape"] == [1, 10]


# ---------------------------------------------------------------- generate
def test_generate_from_a_trained_char_lstm(char_run, work):
    r = cli("generate", char_run, "--prompt", "hel", "-n", "30", "--temperature", "0", cwd=work)
    text = r.stdout[:-1]  # generate ends the sample with one newline
    assert text.startswith("hel") and len(text) == 3 + 30
    # greedy decoding: the same as the model run here
    from dalam.text import CharVocab
    model, meta, _ = load_model(char_run)
    vocab = CharVocab(meta["preprocess"]["vocab"])
    assert text == "hel" + vocab.decode(model.generate(vocab.encode("hel"), 30, temperature=0))
    a = cli("generate", char_run, "--prompt", "t", "-n", "20", "--seed", "3", cwd=work).stdout
    b = cli("generate", char_run, "--prompt", "t", "-n", "20", "--seed", "3", cwd=work).stdout
    assert a == b and set(a[:-1]) <= set(vocab.itos)


def test_generate_from_a_gpt_checkpoint_made_here(work):
    from dalam.models import GPT
    from dalam.text import CharVocab
    vocab = CharVocab.from_text("abcdefgh \n")
    dalam.manual_seed(0)
    args = {"vocab_size": len(vocab), "block_size": 16, "n_layer": 1, "n_head": 2, "n_embd": 16,
            "dropout": 0.0, "bias": True, "weight_tying": True}
    model = GPT(**args)
    meta = {"format": "dalam.cli/1", "task": "chars", "model": {"name": "gpt", "args": args},
            "dataset": {"name": "text", "path": "none.txt", "block_size": 16},
            "preprocess": {"kind": "chars", "vocab": vocab.itos, "block_size": 16}}
    save_single_file(work / "gpt.safetensors", model, meta)
    r = cli("generate", "gpt.safetensors", "--prompt", "abc", "-n", "20", "--temperature", "0", cwd=work)
    ids = model.generate(dalam.tensor(vocab.encode("abc")[None]), 20, greedy=True)._data[0]
    assert r.stdout[:-1] == vocab.decode(ids)
    one_line_error(cli("generate", "gpt.safetensors", "--prompt", "xyz", cwd=work, check=False),
                   "vocabulary")


def test_train_logs_to_tensorboard(char_run, work):
    from dalam.train import read_events
    ev = read_events(work / "tb")
    losses = [v for t, s, k, v in ev if t == "epoch/loss"]
    assert len(losses) == 2 and losses[1] < losses[0]
    samples = [v for t, s, k, v in ev if k == "text"]
    assert len(samples) == 2 and all(len(t) == 201 for t in samples)  # prompt + 200 sampled characters
    assert any(t.startswith("weights/") for t, s, k, v in ev if k == "histogram")


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.toml")
                                          if "[dataset]" in p.read_text()))  # `dalam train` configs
def test_shipped_configs_are_valid(config, capsys):
    """Every ready-made config passes validation and builds its model (no data loaded)."""
    assert main(["summary", str(ROOT / "configs" / config), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["total_params"] > 0 and d["total_mult_adds"] > 0


def test_predict_next_characters(char_run, work):
    r = cli("predict", char_run, "hello worl", "--json", "--top-k", "1", cwd=work)
    p = json.loads(r.stdout)
    from dalam.text import CharVocab
    model, meta, _ = load_model(char_run)
    vocab = CharVocab(meta["preprocess"]["vocab"])
    with dalam.no_grad():
        logits, _ = model(dalam.tensor(vocab.encode("hello worl")[None]))
    assert p["prediction"] == int(logits._data[0, -1].argmax())
    assert p["label"] == repr(vocab.itos[p["prediction"]])


# ---------------------------------------------------------------- embed
def test_embed_writes_npy_and_json(work):
    sents = ["A cat sits on the mat.", "A kitten rests on a rug.", "Stock markets fell sharply today."]
    cli("embed", *sents, "-o", "emb.npy", cwd=work)
    e = np.load(work / "emb.npy")
    assert e.shape == (3, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2  # the two sentences about cats are the closest
    (work / "sents.txt").write_text("\n".join(sents[:2]) + "\n\n")
    assert main(["embed", "--file", str(work / "sents.txt"), "-o", str(work / "emb.json")]) == 0
    doc = json.loads((work / "emb.json").read_text())
    assert doc["sentences"] == sents[:2]
    np.testing.assert_allclose(np.array(doc["embeddings"]), e[:2], atol=1e-6)


# ---------------------------------------------------------------- bench
def test_bench_quick_prints_a_ratio_table(work):
    r = cli("bench", "--quick", "--json", cwd=work, timeout=300)
    rows = json.loads(r.stdout)
    assert rows and all(row["dalam"] > 0 and row["torch"] > 0 and row["ratio"] > 0 for row in rows)
    assert all(row["workload"] in ("W1", "W3") for row in rows)


def test_bench_parses_the_benchmark_lines():
    from dalam.cli.bench import parse_rows
    rows = parse_rows("w2", "threads 1\nW2 CNN train (batch 128, Adam):  dalam      600 samples/s   "
                            "torch      800 samples/s   ratio 0.75x   dalam 14.6 GFLOP/s\n"
                            "W5 CNN inference batch 1:       dalam      200 us          torch      100 us"
                            "          dalam/torch latency 2.00 (slower)\n"
                            "W1 via dalam.fit + DataLoader (accuracy metric): dalam    3000 samples/s   torch loop"
                            " + DataLoader    2000 samples/s   ratio 1.50x\n")
    assert [(r["name"], r["dalam"], r["torch"], r["unit"], r["ratio"]) for r in rows] == [
        ("W2 CNN train (batch 128, Adam)", 600.0, 800.0, "samples/s", 0.75),
        ("W5 CNN inference batch 1", 200.0, 100.0, "us", 0.5),
        ("W1 via dalam.fit + DataLoader (accuracy metric)", 3000.0, 2000.0, "samples/s", 1.5)]


# ---------------------------------------------------------------- export
def test_export_onnx_runs_in_onnxruntime(image_run, work):
    import onnxruntime as ort
    cli("export", image_run, "--onnx", "mlp.onnx", "--safetensors", "mlp.safetensors", cwd=work)
    model, _, _ = load_model(image_run)
    x = dalam.datasets.MNIST(train=False, subset=True).as_tensors()[0][:1]
    sess = ort.InferenceSession(str(work / "mlp.onnx"), providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: x._data})[0]
    with dalam.no_grad():
        np.testing.assert_allclose(out, model(x)._data, rtol=1e-4, atol=1e-5)
    # the batch dimension is dynamic by default: onnxruntime runs a batch of 4 too
    x4 = dalam.datasets.MNIST(train=False, subset=True).as_tensors()[0][:4]
    out4 = sess.run(None, {sess.get_inputs()[0].name: x4._data})[0]
    with dalam.no_grad():
        np.testing.assert_allclose(out4, model(x4)._data, rtol=1e-4, atol=1e-5)
    # the single file carries the metadata: eval works on it alone
    a = json.loads(cli("eval", "mlp.safetensors", "--json", "--limit", "200", cwd=work).stdout)
    b = json.loads(cli("eval", image_run, "--json", "--limit", "200", cwd=work).stdout)
    assert a["loss"] == b["loss"] and a["accuracy"] == b["accuracy"]




def test_predict_takes_an_ordinary_photo_of_a_digit(image_run, work):
    """A dark digit on a light background, in colour, large and off-centre (as a phone photo of a
    digit on paper): converted, inverted, cropped and resized as MNIST was made, then the same
    prediction as for the dataset's own image."""
    from PIL import Image
    ds = dalam.datasets.MNIST(train=False, subset=True)
    model, _, _ = load_model(image_run)
    x, _ = ds.as_tensors()
    with dalam.no_grad():
        expected = model(x[:10])._data.argmax(1)
    names = []
    for i in range(10):
        big = np.asarray(Image.fromarray(255 - ds.data[i]).resize((140, 140), Image.BILINEAR))
        page = np.full((300, 240), 235, np.uint8)
        page[40:180, 70:210] = big
        rgb = np.stack([page, (page * 0.95).astype(np.uint8), (page * 0.9).astype(np.uint8)], -1)
        Image.fromarray(rgb).save(work / f"photo{i}.jpg", quality=92)
        names.append(f"photo{i}.jpg")
    r = cli("predict", image_run, *names, "--json", cwd=work)
    got = [json.loads(line)["prediction"] for line in r.stdout.splitlines()]
    # a small 1-epoch MLP: most predictions agree; the prepared images are the dataset's own, nearly
    assert sum(int(a == b) for a, b in zip(got, expected.tolist())) >= 8, (got, expected)
    from dalam.cli.predict import prepare_image
    pre = {"channels": 1, "height": 28, "width": 28, "mean": 0.0, "std": 1.0}
    diff = [np.abs(prepare_image(work / n, pre, dataset="mnist")[0, 0] - ds.data[i] / 255).mean()
            for i, n in enumerate(names)]
    assert np.mean(diff) < 0.06, diff
    r = cli("predict", image_run, "photo0.jpg", cwd=work)
    assert "converted RGB to grayscale" in r.stderr and "inverted (light background)" in r.stderr
    assert "240x300 -> " in r.stderr and "padded to 28x28" in r.stderr


# ---------------------------------------------------------------- bad input
def test_bad_inputs_give_one_line_errors(image_run, work):
    from PIL import Image
    one_line_error(cli("eval", "no_such_dir", cwd=work, check=False), "no such checkpoint", "no_such_dir")
    bad = work / "typo.toml"
    bad.write_text('[dataset]\nname = "mnist"\nsubset = true\n[model]\nname = "mlp"\nhiden = [8]\n')
    one_line_error(cli("train", bad, cwd=work, check=False), "[model] hiden", "did you mean 'hidden'")
    ds = dalam.datasets.MNIST(train=False, subset=True)
    Image.fromarray(ds.data[0]).resize((32, 32)).save(work / "big.png")
    Image.fromarray(ds.data[0]).convert("RGB").save(work / "rgb.png")
    one_line_error(cli("predict", image_run, "big.png", "--exact", cwd=work, check=False), "32x32", "28x28")
    one_line_error(cli("predict", image_run, "rgb.png", "--exact", cwd=work, check=False), "RGB", "grayscale")
    (work / "notimage.png").write_text("not an image")
    one_line_error(cli("predict", image_run, "notimage.png", cwd=work, check=False), "notimage.png")
    r = cli("predict", image_run, "rgb.png", "--exact", "--debug", cwd=work, check=False)
    assert r.returncode != 0 and "Traceback" in r.stderr


@pytest.mark.parametrize("body,words", [
    ('[dataset]\nname = "mnsit"\n[model]\nname = "mlp"\n', ["[dataset] name", "did you mean 'mnist'"]),
    ('[dataset]\nname = "mnist"\n[modle]\nname = "mlp"\n', ["[modle]", "did you mean 'model'"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "mlp"\n[train]\nepoch = 2\n', ["[train] epoch", "'epochs'"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "mlp"\n[optimizer]\nlearning_rate = 0.1\n',
     ["[optimizer] learning_rate", "'lr'"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "mlp"\n[schedule]\nname = "cosin"\n',
     ["[schedule] name", "'cosine'", "allowed"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "gpt"\n', ["[model] name", "image classification"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "mlp"\n[train]\nepochs = "3"\n', ["[train] epochs", "integer"]),
    ('[dataset]\nname = "mnist"\n[model]\nname = "mlp"\nnum_classes = 3\n', ["[model] num_classes", "set by the dataset"]),
    ('[dataset\nname = "mnist"\n', ["not valid TOML"]),
])
def test_config_errors_name_the_key(body, words, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(body)
    assert main(["train", str(cfg)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("dalam train: error:")
    for w in words:
        assert w in err, (w, err)


# ---------------------------------------------------------------- a person at a terminal
def _read_until(fd, predicate, timeout):
    """Read a pseudo-terminal until ``predicate(text)`` or ``timeout`` seconds; (text, elapsed)."""
    import select
    text, t0 = "", time.monotonic()
    while time.monotonic() - t0 < timeout and not predicate(text):
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            text += chunk.decode("utf-8", "replace")
    return text, time.monotonic() - t0


def test_train_in_a_terminal_shows_a_bar_and_ctrl_c_says_how_to_resume(work):
    import pty
    import signal
    cfg = work / "tty.toml"
    cfg.write_text(MLP_CONFIG.format(limit=2000, epochs=30, save_every=10, ckpt="tty_run"))
    master, slave = pty.openpty()
    import fcntl
    import struct
    import termios
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100x24 terminal
    p = subprocess.Popen([sys.executable, "-m", "dalam.cli", "train", str(cfg)], cwd=work, env=_env(),
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        text, took = _read_until(master, lambda t: "Epoch 1/30" in t and "batch" in t, 60)
        assert "Epoch 1/30" in text, text
        assert took < 10, f"the progress bar took {took:.1f} s to appear"
        ptr = work / "tty_run" / "checkpoint.json"
        deadline = time.monotonic() + 60
        while not ptr.is_file() and time.monotonic() < deadline:
            more, _ = _read_until(master, lambda t: False, 0.5)
            text += more
        assert ptr.is_file(), text
        os.killpg(p.pid, signal.SIGINT)  # Ctrl-C: the terminal sends SIGINT to the foreground group
        more, _ = _read_until(master, lambda t: "continue with:" in t and "\n" in t.split("continue with:")[-1],
                              60)
        text += more
        assert p.wait(timeout=60) == 130
    finally:
        if p.poll() is None:
            p.kill()
        os.close(master)
    line = [ln for ln in text.replace("\r", "\n").splitlines() if "continue with:" in ln][-1]
    assert "latest checkpoint is" in line
    cmd = line.split("continue with:")[1].strip().split()
    assert cmd[:2] == ["dalam", "train"] and "--resume" in cmd
    r = cli(*cmd[1:], "--quiet", cwd=work, check=False)  # the printed command, as a person would paste it
    assert r.returncode == 0 and "resuming from" in r.stderr and "done:" in r.stdout, r.stderr


def test_every_help_example_parses():
    """Each `dalam ...` example line in every command's --help text is accepted by that command's
    argument parser (a wrong flag in an example is the first thing a new user copies)."""
    import shlex
    from dalam.cli.main import COMMANDS, build_parser
    checked = 0
    for name in COMMANDS:
        ap = build_parser(name)
        help_text = ap._subparsers._group_actions[0].choices[name].format_help()
        for line in help_text.splitlines():
            line = re.sub(r"\[[^\]]*\]", "", line.split("  #")[0]).strip()  # a synopsis's [optional] parts
            if not line.startswith("dalam "):
                continue
            words = shlex.split(line)[1:]
            if not words or words[0] not in COMMANDS:
                continue
            try:
                build_parser(words[0]).parse_args(words)
            except SystemExit:
                pytest.fail(f"the example in `dalam {name} --help` does not parse: {line}")
            checked += 1
    assert checked >= len(COMMANDS)


def test_cli_config_reference_matches_the_validator():
    """docs/cli.md lists every config key with its default, allowed values and meaning, made from the
    validator's tables (python -m dalam.cli.configdoc > docs/cli.md): it cannot drift."""
    from dalam.cli.configdoc import markdown
    assert (ROOT / "docs" / "cli.md").read_text() == markdown(), \
        "docs/cli.md is out of date: python -m dalam.cli.configdoc > docs/cli.md"
    text = markdown()
    for key in ("val_split", "batch_size", "save_every", "lr", "betas", "T_max", "hidden", "block_size"):
        assert f"| `{key}` |" in text, key
    assert "same type as the default" not in text  # every key has a rule and a meaning
