"""``dalam.backends.mkldnn``: answers as PyTorch's CPU build (where oneDNN is
available); the flags change nothing here (NumPy does the maths)."""
enabled = True
deterministic = False


def is_available():
    return True
