"""Editor and type-checker support: the .pyi stubs list every public name with its real
signature (generated from the running package, checked here), and mypy --strict accepts a
user's typed training script (tests/typing/user_script.py)."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_stubs_match_the_package():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_stubs.py"), "--check"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_tensor_stub_lists_every_method_with_its_parameters():
    import dalam
    text = (ROOT / "dalam" / "tensor.pyi").read_text()
    for name in ("add_", "transpose", "contiguous", "view", "masked_fill_", "argmax", "item", "backward"):
        assert f"    def {name}(" in text, name
    assert "def transpose(input, dim0: Any, dim1: Any) -> Tensor" in text
    assert "def item(self) -> builtins.float" in text
    public = [n for n in dir(dalam.Tensor) if not n.startswith("_")]
    missing = [n for n in public if f"def {n}(" not in text and f"    {n}: Any" not in text]
    assert not missing, missing
    assert (ROOT / "dalam" / "py.typed").is_file()


def test_mypy_strict_accepts_a_typed_user_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MYPY_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                        str(ROOT / "tests" / "typing" / "user_script.py")], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # and the script runs
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "typing" / "user_script.py")], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
