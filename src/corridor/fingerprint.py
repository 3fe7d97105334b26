"""The engine's fingerprint: a hash of the version and of every source file that decides what a run computes.

A finished run, a calibration study or a compiled kernel made by other engine code is not reused; a worker
whose corridor differs refuses to run. Numba's cache is kept per fingerprint (see `corridor/__init__.py`):
numba checks only a kernel's own file, not the constants it imports (codes, tally slots) from others.
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"
ENGINE_FILES = ("engine.py", "world.py", "levers.py", "timelines.py", "codes.py", "population.py", "rng.py",
                "tally.py", "metrics.py", "rules.py", "packed.py", "scenario/*.py", "phases/*.py")


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256(__version__.encode())
    for pattern in ENGINE_FILES:
        for f in sorted(here.glob(pattern)):
            h.update(f.relative_to(here).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def compile_note() -> str:
    """What a progress bar says before its first day: on an empty kernel cache (the first run of this engine
    version, see `corridor/__init__.py`) that day compiles the kernels, ~30 s on 2 cores; else nothing."""
    cache = os.environ.get("NUMBA_CACHE_DIR")
    where = Path(cache) if cache else Path(__file__).parent
    if any(where.rglob("*.nbi")):
        return ""
    return "compiling the kernels, once per engine version "
