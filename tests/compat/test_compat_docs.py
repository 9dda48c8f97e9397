"""docs/coming_from_pytorch.md lists what ``dalam run`` answers and refuses: the
table there must be exactly what dalam/compat/tables.py says, and every
mapped module must exist."""
import importlib
import pathlib
import re

import pytest

from dalam.compat import tables

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "coming_from_pytorch.md"


def test_docs_table_is_generated_from_the_hook_tables():
    text = DOC.read_text()
    m = re.search(r"<!-- dalam-run-tables:start -->\n(.*?)\n<!-- dalam-run-tables:end -->", text, re.S)
    assert m, "the dalam run tables are missing from docs/coming_from_pytorch.md"
    assert m.group(1) == tables.markdown(), (
        "docs/coming_from_pytorch.md is out of date with dalam/compat/tables.py; paste "
        "dalam.compat.tables.markdown() between the markers")


@pytest.mark.parametrize("torch_name, dalam_name", sorted(tables.MODULES.items()))
def test_every_mapped_module_imports(torch_name, dalam_name):
    if dalam_name == "dalam.distributed":
        pytest.importorskip("mpi4py")
    importlib.import_module(dalam_name)


def test_torchvision_names_exist_and_refusals_are_not_mapped():
    for mod, names in tables.TORCHVISION.items():
        target = importlib.import_module(tables.MODULES[mod])
        for n in names:
            assert hasattr(target, n), f"{mod}.{n}"
    assert not set(tables.REFUSED) & set(tables.MODULES)
    for name, spec in tables.OVERRIDES.items():
        mod, _, attr = spec.partition(":")
        assert hasattr(importlib.import_module(mod), attr), spec
