"""Strict configs (issue 23): every value is checked against the schema
before any data loads, and each error names the key, the value and what is
allowed."""
import os
import pathlib
import subprocess
import sys

import pytest

from dalam.cli.config import SCHEMA, load_config
from dalam.cli.main import CLIError

ROOT = pathlib.Path(__file__).resolve().parents[1]

BASE = {
    "dataset": 'name = "mnist"\nsubset = true\nlimit = 100',
    "model": 'name = "mlp"\nhidden = [16]',
    "optimizer": 'name = "adam"\nlr = 0.001',
    "train": "epochs = 1",
}


def _cfg(tmp_path, **sections):
    body = {**BASE}
    for sec, extra in sections.items():
        key = extra.split("=")[0].strip()
        kept = [ln for ln in body.get(sec, "").splitlines() if ln.split("=")[0].strip() != key]
        body[sec] = "\n".join(kept + [extra])
    text = "\n".join(f"[{k}]\n{v}" for k, v in body.items())
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("section,line,words", [
    ("model", 'hidden = "16"', ["[model] hidden", "'16'", "list of integers"]),
    ("model", "hidden = [16, 0]", ["[model] hidden", "1 <= x"]),
    ("model", "hidden = 16", ["[model] hidden", "list of integers"]),
    ("dataset", "limit = -5", ["[dataset] limit = -5", "1 <= x"]),
    ("dataset", "limit = 0", ["[dataset] limit = 0", "1 <= x"]),
    ("dataset", 'limit = "many"', ["[dataset] limit = 'many'", "an integer"]),
    ("dataset", "limit = 2.5", ["[dataset] limit = 2.5", "an integer"]),
    ("optimizer", "lr = nan", ["[optimizer] lr = nan", "finite", "0 < x"]),
    ("optimizer", "lr = -0.1", ["[optimizer] lr = -0.1", "0 < x"]),
    ("optimizer", "lr = inf", ["[optimizer] lr = inf", "finite"]),
    ("optimizer", "betas = 0.9", ["[optimizer] betas = 0.9", "pair", "0 <= x < 1"]),
    ("optimizer", "betas = [0.9, 1.0]", ["[optimizer] betas", "0 <= x < 1"]),
    ("optimizer", "betas = [0.9, 0.99, 0.5]", ["[optimizer] betas", "pair"]),
    ("optimizer", 'weight_decay = "0.1"', ["[optimizer] weight_decay", "finite number"]),
    ("train", "checkpoint_dir = 5", ["[train] checkpoint_dir = 5", "a string"]),
    ("train", 'max_grad_norm = "big"', ["[train] max_grad_norm = 'big'", "0 < x"]),
    ("train", "max_grad_norm = -1.0", ["[train] max_grad_norm = -1.0", "0 < x"]),
    ("train", "keep_last = 0", ["[train] keep_last = 0", "1 <= x"]),
    ("train", "batch_size = 32.0", ["[train] batch_size = 32.0", "an integer"]),
    ("train", "seed = true", ["[train] seed = True", "an integer"]),
    ("train", "save_every = 0", ["[train] save_every = 0", '"epoch" or an integer']),
    ("train", "verbose = 7", ["[train] verbose = 7", "<= 2"]),
    ("model", "dropout = 1.5", ["[model] dropout = 1.5", "0 <= x < 1"]),
    ("model", 'activation = "swish"', ["[model] activation = 'swish'", "one of 'relu'"]),
])
def test_bad_values_name_key_value_and_range(tmp_path, section, line, words):
    with pytest.raises(CLIError) as e:
        load_config(_cfg(tmp_path, **{section: line}))
    msg = str(e.value)
    for w in words:
        assert w in msg, (w, msg)


def test_schedule_values_are_checked(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text("\n".join(f"[{k}]\n{v}" for k, v in BASE.items())
                 + '\n[schedule]\nname = "step"\nstep_size = 0\ngamma = 0.5\n')
    with pytest.raises(CLIError, match=r"\[schedule\] step_size = 0: expected an integer with 1 <= x"):
        load_config(p)


def test_good_config_passes_and_every_schema_key_has_a_meaning(tmp_path):
    cfg = load_config(_cfg(tmp_path, optimizer="betas = [0.9, 0.999]", train="max_grad_norm = 1"))
    assert cfg["optimizer"]["betas"] == [0.9, 0.999] and cfg["dataset"]["limit"] == 100
    assert all(k.meaning for k in SCHEMA.values())


def test_checked_before_any_data_loads(tmp_path, monkeypatch):
    import dalam.cli.data as D

    def boom(*a, **k):
        raise AssertionError("data loaded before the config was checked")
    monkeypatch.setattr(D, "load_splits", boom)
    from dalam.cli import train
    from types import SimpleNamespace
    args = SimpleNamespace(config=str(_cfg(tmp_path, train='max_grad_norm = "big"')), nproc=1, resume=False,
                           overwrite=False, epochs=None, batch_size=None, checkpoint_dir=None, log_dir=None,
                           quiet=True, max_restarts=0)
    with pytest.raises(CLIError, match="max_grad_norm"):
        train.run(args)


def test_binary_file_as_text_data_is_a_one_line_error(tmp_path):
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 10)
    cfg = tmp_path / "t.toml"
    cfg.write_text('[dataset]\nname = "text"\npath = "data.bin"\n[model]\nname = "char_rnn"\n'
                   '[train]\nepochs = 1\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "train", str(cfg)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "[dataset] path" in r.stderr and "not UTF-8" in r.stderr
