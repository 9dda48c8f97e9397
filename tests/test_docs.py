"""The documentation runs: every ```python block of each tutorial chapter (and of
the "coming from PyTorch" page) is executed in order, one namespace per page, in
a temporary folder, and the figures each chapter shows are drawn there; the
MkDocs site (API reference from the docstrings) builds with warnings as errors.

Regenerate the committed figures after editing a chapter:
    .venv/bin/python tests/test_docs.py            (all chapters)
    .venv/bin/python tests/test_docs.py 05         (chapters whose name starts with 05)
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "tutorial"
CHAPTERS = sorted(TUTORIAL.glob("[0-9][0-9]_*.md"))
PAGES = CHAPTERS + [DOCS / "coming_from_pytorch.md"]

_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.M | re.S)
_FIGURE = re.compile(r"!\[[^\]]*\]\((figures/[^)\s]+)\)")


def code_blocks(page):
    return _BLOCK.findall(page.read_text())


def figures(page):
    return _FIGURE.findall(page.read_text())


def run_page(page, workdir):
    """Execute the page's python blocks in order in ``workdir``; returns the CPU seconds taken
    (CPU, not wall time: the machine running the tests may be shared)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    old = os.getcwd()
    os.chdir(workdir)
    sys.path.insert(0, str(ROOT))
    ns = {"__name__": "__main__"}
    t0 = time.process_time()
    try:
        for i, block in enumerate(code_blocks(page), 1):
            exec(compile(block, f"{page.name} [python block {i}]", "exec"), ns)
    finally:
        os.chdir(old)
        sys.path.remove(str(ROOT))
        plt.close("all")
    return time.process_time() - t0


# the course's order; chapters marked None are being written (numbers stay reserved for them)
COURSE = ["neuron", "perceptron", "mlp", "loss", "cnn", "lstm", "speech", "transformer", "gan",
          "recommend", "reinforcement", "regularisation", "adversarial", "efficiency", "transfer",
          "fewshot", "multimodal"]


def test_chapters_follow_the_course():
    for p in CHAPTERS:
        n = int(p.stem[:2])
        assert 1 <= n <= len(COURSE) and COURSE[n - 1] in p.stem, (p.stem, COURSE)
    index = (TUTORIAL / "index.md").read_text()
    for p in CHAPTERS:  # the index links every chapter
        assert f"({p.name})" in index, p.name


def run_page_fresh(page, workdir):
    """run_page in a new interpreter, as a reader running the chapter would (one BLAS thread:
    on a shared machine small matrix products are many times slower when BLAS threads compete)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, __file__, "--run", str(page), str(workdir)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{page.name} failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return float(res.stdout.strip().splitlines()[-1].split()[-3])


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_page_runs_and_draws_its_figures(page, tmp_path):
    assert code_blocks(page), f"{page.name} has no python blocks"
    seconds = run_page_fresh(page, tmp_path)
    for fig in figures(page):
        out = tmp_path / fig
        # graph drawings use Graphviz's `dot` when installed, matplotlib otherwise: always drawn
        assert out.is_file() and out.stat().st_size > 500, f"{page.name} did not draw {fig}"
        assert (TUTORIAL / fig).is_file(), f"{fig} is not committed: run python tests/test_docs.py"
    assert seconds < 20, f"{page.name} took {seconds:.1f} CPU s; chapters must stay small"


def test_mkdocs_builds_strict(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                          str(ROOT / "mkdocs.yml"), "-d", str(site)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    nn_page = (site / "api" / "nn" / "index.html").read_text()
    assert "Conv2d" in nn_page and "state_dict" in nn_page  # docstrings made it into the reference
    assert (site / "tutorial" / "05_cnn" / "index.html").is_file()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--run":  # one page, used by the tests
        page = pathlib.Path(sys.argv[2]).resolve()
        print(f"{page.name}: {run_page(page, sys.argv[3]):.2f} CPU s")
        sys.exit(0)
    import tempfile
    prefix = sys.argv[1] if len(sys.argv) > 1 else ""
    for page in CHAPTERS:
        if page.name.startswith(prefix):
            with tempfile.TemporaryDirectory() as tmp:  # files a chapter writes stay out of docs/
                print(f"{page.name}: {run_page(page, tmp):.1f} CPU s", flush=True)
                for fig in figures(page):
                    if (pathlib.Path(tmp) / fig).is_file():
                        shutil.copy(pathlib.Path(tmp) / fig, TUTORIAL / fig)


# ---------------------------------------------------------------- notebooks
def test_notebooks_match_the_chapters():
    """docs/notebooks/*.ipynb are made from the chapters (tools/make_notebooks.py): never edited apart."""
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_notebooks.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", ["01_neuron", "02_perceptron"])
def test_notebook_runs_in_a_kernel(name, tmp_path, monkeypatch):
    """A chapter's notebook executed by a real Jupyter kernel (nbclient + ipykernel), as a reader
    would run it, drawing its figures."""
    import nbclient
    import nbformat
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(DOCS / "notebooks" / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "stream" for o in outputs)  # the chapter's prints appear
    for fig in figures(TUTORIAL / f"{name}.md"):
        assert (tmp_path / fig).is_file(), fig
