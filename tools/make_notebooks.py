"""Make the tutorial's Jupyter notebooks from its Markdown chapters (one source of truth).

    python tools/make_notebooks.py            write docs/notebooks/NN_*.ipynb
    python tools/make_notebooks.py --check    exit 1 if a notebook is missing or out of date

Each ```python block becomes a code cell, the text between blocks a Markdown cell (figure links
are rewritten to point at the chapter's figures).  The notebooks are written without outputs;
tests/test_docs.py executes some of them with nbclient.  Only the standard library is used."""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial"
OUT = ROOT / "docs" / "notebooks"
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```[^\n]*\n?", re.M | re.S)


def _lines(text):
    """nbformat stores cell sources as lists of lines, each keeping its newline."""
    parts = text.splitlines(keepends=True)
    if parts:
        parts[-1] = parts[-1].rstrip("\n")
    return parts


def notebook(md_path):
    """The notebook (a dict in nbformat 4) of one Markdown chapter."""
    text = md_path.read_text()
    text = re.sub(r"\]\((figures/)", r"](../tutorial/\1", text)
    text = re.sub(r"\]\(([0-9][0-9]_[^)]+)\.md\)", r"](\1.ipynb)", text)
    cells, pos = [], 0
    setup = ("# run from anywhere: the figures go to ./figures, as in the chapter\n"
             "import os\nos.makedirs('figures', exist_ok=True)")
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                  "source": _lines(setup)})
    for m in _BLOCK.finditer(text):
        prose = text[pos:m.start()].strip("\n")
        if prose.strip():
            cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(prose)})
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                      "source": _lines(m.group(1).rstrip("\n"))})
        pos = m.end()
    rest = text[pos:].strip("\n")
    if rest.strip():
        cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(rest)})
    for i, c in enumerate(cells):  # nbformat 4.5: every cell has an id (stable across runs)
        c["id"] = f"{md_path.stem[:2]}-{i:03d}"
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"},
                         "dalam": {"source": f"docs/tutorial/{md_path.name}"}}}


def dumps(nb):
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    OUT.mkdir(exist_ok=True)
    for md in sorted(TUTORIAL.glob("[0-9][0-9]_*.md")):
        path = OUT / (md.stem + ".ipynb")
        text = dumps(notebook(md))
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    known = {md.stem for md in TUTORIAL.glob("[0-9][0-9]_*.md")}
    extra = [p.name for p in OUT.glob("*.ipynb") if p.stem not in known]
    if check and (stale or extra):
        print("out of date: " + ", ".join(stale + extra) + "; run python tools/make_notebooks.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
