#!/usr/bin/env python
"""Kept for old command lines: the builder is the package corridor.build (`python -m corridor.build`), which takes
the same options (--out, --no-fit; --check now compares the committed file, --explain prints the derivations)."""
import sys

from corridor.build.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
