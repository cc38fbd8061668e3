"""`python -m preflight ...`: the same entry point as the `preflight` console script."""

from __future__ import annotations

import sys

from preflight.cli import main

if __name__ == "__main__":
    sys.exit(main())
