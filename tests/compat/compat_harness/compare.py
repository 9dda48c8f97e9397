"""Compare two program outputs: the same lines, the same words, numbers equal
to a relative 1e-4 (float32 arithmetic in a different order: NumPy vs PyTorch)."""
import math
import re

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def _split(line):
    nums = [m.group(0) for m in NUMBER.finditer(line)]
    words = NUMBER.sub("#", line).split()
    return words, nums


def _close(a, b, rtol, atol):
    # a printed number is only as exact as its last digit: rounding may flip it
    atol = max(atol, max(_ulp(a), _ulp(b)))
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= atol + rtol * max(abs(x), abs(y))


def differences(ref, got, rtol=1e-4, atol=1e-5):
    """A list of human-readable differences (empty when the outputs agree)."""
    r, g = ref.rstrip("\n").splitlines(), got.rstrip("\n").splitlines()
    out = []
    if len(r) != len(g):
        out.append(f"{len(r)} lines from PyTorch, {len(g)} from dalam run")
    for i, (a, b) in enumerate(zip(r, g), 1):
        (wa, na), (wb, nb) = _split(a), _split(b)
        if wa != wb or len(na) != len(nb):
            out.append(f"line {i}: torch {a!r} != dalam {b!r}")
            continue
        bad = [(x, y) for x, y in zip(na, nb) if not _close(x, y, rtol, atol)]
        if bad:
            out.append(f"line {i}: torch {a!r} != dalam {b!r} (numbers {bad[:3]})")
    return out


def _ulp(s):
    """One unit in the last printed decimal place of ``s`` (0 for integers)."""
    mant = s.lower().split("e")[0]
    if "." not in mant:
        return 0.0
    d = len(mant.split(".")[1])
    exp = int(s.lower().split("e")[1]) if "e" in s.lower() else 0
    return 10.0 ** (exp - d)
