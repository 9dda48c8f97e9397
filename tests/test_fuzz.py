"""Seeded mutation fuzzing of every file format dalam reads (issue 23).

Each format gets 300 mutated files (tests/fuzz/fuzz_formats.py; one child
process per batch, restarted after a case that kills it, so a crash or a hang
is counted).  Every case must end in an exception naming the file, or load;
nothing may crash, hang, raise without the file's name, or fail later when
used; formats that carry a checksum (dalam checkpoints and safetensors, IDX
with a known MD5, gzip, PyTorch's zip .pt files) may never load changed
contents."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "fuzz"))
from fuzz_formats import CHECKSUMMED, FORMATS, run_format  # noqa: E402

CASES = 300


@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzz_format(fmt):
    r = run_format(fmt, CASES, seed=0)
    assert r["rejected"] + r["same"] + r["changed"] == CASES, r
    assert r["crash"] == r["hang"] == r["unclean"] == r["late"] == 0, r
    if fmt in CHECKSUMMED:
        assert r["changed"] == 0, r
    assert r["rejected"] > CASES // 2, r  # the mutations do reach the checks
