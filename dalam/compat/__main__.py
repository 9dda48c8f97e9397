"""``python -m dalam.compat SCRIPT.py [ARGS...]``: the same as ``dalam run``."""
import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main())
