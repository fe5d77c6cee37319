"""`python -m benchmarks.gpu_check ...`: the GPU proof (see the package's docstring)."""
from __future__ import annotations

import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main())
