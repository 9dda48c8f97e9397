"""``dalam run`` / ``python -m dalam.compat`` / ``dalam.compat.install()``: the
import hook, python-like script running, one-line errors, torch.save/load."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from compat_harness.suite import ROOT, env


def dalam_run(tmp_path, source, *args, module=False):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    cmd = ([sys.executable, "-m", "dalam.compat"] if module else [sys.executable, "-m", "dalam.cli", "run"])
    return subprocess.run(cmd + [str(script), *args], cwd=tmp_path, env=env(), capture_output=True,
                          text=True, timeout=120)


def test_script_sees_argv_main_and_its_own_directory(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    r = dalam_run(tmp_path, """
        import sys, torch, torch.nn as nn, torch.nn.functional as F
        import helper_mod
        print(sys.argv[1:], __name__, helper_mod.VALUE + 1)
        print(type(torch.zeros(2)).__module__.split('.')[0], torch.nn.Linear(2, 3).weight.shape)
        """, "--epochs", "3", "-x")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["['--epochs', '3', '-x'] __main__ 42", "dalam torch.Size([3, 2])"]


@pytest.mark.parametrize("module", [False, True])
def test_exit_status_and_traceback_as_python(tmp_path, module):
    r = dalam_run(tmp_path, """
        import sys
        if len(sys.argv) > 1:
            sys.exit(int(sys.argv[1]))
        def inner():
            raise ValueError("boom")
        inner()
        """, module=module)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert 'script.py", line 7, in <module>' in lines[1]  # starts at the script, no runner frames
    assert "runpy" not in r.stderr and "dalam/compat" not in r.stderr
    assert lines[-1] == "ValueError: boom"
    script = tmp_path / "script.py"
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "run", str(script), "7"], env=env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 7 and r.stderr == ""


@pytest.mark.parametrize("source, message", [
    ("x = torch.ones(2)\nx = x.to('cuda')\n", "script.py:3: to('cuda'): Torch not compiled with CUDA enabled"),
    ("torch.fft.rfft(torch.ones(4))\n", "script.py:2: torch.fft.rfft is not supported by dalam run"),
    ("torch.save(torch.nn.Linear(2, 2), 'm.pt')\n", "script.py:2: torch.save: saving a whole model (Linear)"),
    ("from torch.utils.tensorboard import SummaryWriter\n",
     "torch.utils.tensorboard.SummaryWriter is not supported by dalam run (use tensorboardX"),
    ("import torch.utils.bottleneck\n", "script.py:2: torch.utils.bottleneck is not supported by dalam run"),
    ("torch.nn.functional.not_a_function(1)\n",
     "script.py:2: torch.nn.functional.not_a_function is not supported by dalam run"),
])
def test_one_line_errors(tmp_path, source, message):
    r = dalam_run(tmp_path, "import torch\n" + source)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("dalam run: error: ") and message in r.stderr, r.stderr
    assert "docs/coming_from_pytorch.md" in r.stderr or "cuda" in message or "state_dict()" in r.stderr
    assert not (tmp_path / "m.pt").exists()  # no partial file


def test_debug_shows_the_traceback(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import torch\ntorch.fft.fft(1)\n")
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "run", "--debug", str(script)], env=env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" in r.stderr and "UnsupportedTorchAPI" in r.stderr


def test_feature_tests_keep_working(tmp_path):
    r = dalam_run(tmp_path, """
        import torch
        print(hasattr(torch, "not_there"), getattr(torch.backends, "mps", None) is not None,
              torch.backends.mps.is_available(), torch.cuda.is_available(), hasattr(torch.fft, "rfft"))
        try:
            torch.not_there
        except NotImplementedError as e:
            print(type(e).__name__, isinstance(e, AttributeError))
        try:
            import torch._dynamo
            torch._dynamo.config
        except NotImplementedError as e:
            print("dynamo refused")
        print(torch.__version__, torch.float32 is torch.float, torch.Size([2, 3]))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["False True False False False", "UnsupportedTorchAPI True",
                                     "dynamo refused", "2.13.0+dalam True torch.Size([2, 3])"]


def test_torch_save_load_round_trip_and_files_pytorch_reads(tmp_path):
    torch = pytest.importorskip("torch")
    r = dalam_run(tmp_path, """
        import torch
        torch.manual_seed(0)
        m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
        torch.save(m.state_dict(), "sd.pt")
        torch.save({"epoch": 2, "w": torch.arange(6).view(2, 3), "lst": [torch.ones(2), 1.5]}, "ck.pt")
        sd = torch.load("sd.pt", weights_only=True)
        print(list(sd), bool(torch.equal(sd["0.weight"], m[0].weight)))
        import dalam
        dalam.save(m.state_dict(), "sd.safetensors")
        print(sorted(torch.load("sd.safetensors")) == sorted(sd))
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean'")
    assert r.stdout.splitlines()[0].endswith("True") and r.stdout.splitlines()[1] == "True"
    sd = torch.load(tmp_path / "sd.pt", weights_only=True)
    assert list(sd)[:2] == ["0.weight", "0.bias"] and sd["1.num_batches_tracked"].dtype == torch.int64
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert ck["epoch"] == 2 and ck["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and ck["lst"][1] == 1.5


def test_reads_a_checkpoint_written_by_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    m = torch.nn.Linear(3, 2)
    torch.save(m.state_dict(), tmp_path / "pt.pth")
    r = dalam_run(tmp_path, """
        import torch
        m = torch.nn.Linear(3, 2)
        m.load_state_dict(torch.load("pt.pth"))
        print(m.weight.detach().numpy().tolist())
        """)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(eval(r.stdout), m.weight.detach().numpy(), rtol=1e-6)


def test_hostile_checkpoint_is_a_one_line_error(tmp_path):
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo PWNED > pwned.txt",))

    with zipfile.ZipFile(tmp_path / "evil.pt", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
        z.writestr("archive/version", "3\n")
    r = dalam_run(tmp_path, "import torch\ntorch.load('evil.pt')\n")
    assert r.returncode == 1 and not (tmp_path / "pwned.txt").exists()
    assert len(r.stderr.strip().splitlines()) == 1 and "evil.pt" in r.stderr, r.stderr


def test_torchvision_parts(tmp_path):
    r = dalam_run(tmp_path, """
        import torch
        from torchvision import transforms, datasets
        from torchvision.utils import make_grid, save_image
        t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
        print(t(torch.full((4, 4), 255, dtype=torch.uint8).numpy()).shape)
        g = make_grid(torch.ones(3, 1, 2, 2), nrow=2, padding=1)
        print(g.shape)
        save_image(torch.rand(2, 1, 4, 4), "out/grid.png")
        print(hasattr(transforms, "ColorJitter"), datasets.MNIST.__name__)
        try:
            import torchvision.models as models
            models.resnet18()
        except NotImplementedError as e:
            print(str(e).split(" (")[0])
        """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["torch.Size([1, 4, 4])", "torch.Size([3, 7, 7])", "False MNIST",
                                     "torchvision.models.resnet18 is not supported by dalam run"]
    from PIL import Image
    assert Image.open(tmp_path / "out" / "grid.png").size == (14, 8)  # 2 images, padding 2


def test_install_in_process_for_notebooks(tmp_path):
    code = textwrap.dedent("""
        import sys, dalam.compat
        dalam.compat.install()
        import torch, torch.nn as nn
        import dalam
        assert torch.nn.Linear is dalam.nn.Linear and torch.Tensor is dalam.Tensor
        print(torch.randn(2, 3).shape)
        dalam.compat.uninstall()
        assert "torch" not in sys.modules and not dalam.compat.installed()
        print(dalam.randn(2, 3).shape)
        import torch as real
        print(real.__file__.endswith("torch/__init__.py"))
        try:
            dalam.compat.install()
        except RuntimeError as e:
            print("refused:", "already imported" in str(e))
        """)
    r = subprocess.run([sys.executable, "-c", code], env=env(), capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["torch.Size([2, 3])", "(2, 3)", "True", "refused: True"]


def test_missing_script_and_usage(tmp_path):
    r = subprocess.run([sys.executable, "-m", "dalam.cli", "run", str(tmp_path / "nope.py")], env=env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nope.py" in r.stderr
    r = subprocess.run([sys.executable, "-m", "dalam.compat"], env=env(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "usage" in r.stderr
    assert (ROOT / "dalam" / "cli" / "run.py").is_file()


def test_missing_dtypes_are_names_until_used(tmp_path):
    r = dalam_run(tmp_path, """
        import torch
        ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}["float32"]
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=False):
            x = torch.ones(2, dtype=ptdtype)
        print(torch.bfloat16, x.dtype == torch.bfloat16)
        x.to(torch.bfloat16)
        """)
    assert r.returncode == 1 and r.stdout == "torch.bfloat16 False\n"
    assert r.stderr.startswith("dalam run: error: script.py:7: torch.bfloat16 is not supported by dalam run")
    assert len(r.stderr.strip().splitlines()) == 1


def test_syntax_error_reported_as_python_does(tmp_path):
    r = dalam_run(tmp_path, "import torch\nx = (\n")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == "SyntaxError: '(' was never closed"
    assert "Traceback" not in r.stderr and "runpy" not in r.stderr
