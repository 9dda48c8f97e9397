"""``python -m dalam.cli ...``: the same as the ``dalam`` console script."""
import sys

from .main import main

sys.exit(main())
