"""corridor: an agent-based simulator of the migration corridor to the US southwest border."""
import os as _os
import sys as _sys
from pathlib import Path as _Path

from .fingerprint import __version__, engine_fingerprint

__all__ = ["__version__", "engine_fingerprint"]

# Should any numba parallel kernel run (the benchmarks' ceiling walks do), its OpenMP threads sleep instead
# of spinning between calls, burning the cores other processes (ensemble workers, tests) need.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _numba_cache_per_engine() -> None:
    """Compiled kernels are cached in a folder of their own per engine fingerprint: numba re-checks only a
    kernel's own source file, so a change to a constant it imports (a code, a tally slot) would otherwise
    reuse stale machine code. A NUMBA_CACHE_DIR set by the user is the root of these folders."""
    fp = engine_fingerprint()
    given = _os.environ.get("NUMBA_CACHE_DIR")
    if given and _Path(given).name == fp:
        return
    root = _Path(given) if given else _Path(_os.environ.get("XDG_CACHE_HOME") or _Path.home() / ".cache") / "corridor"
    target = root / fp
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return                                   # not writable: numba's own default (beside the sources)
    _os.environ["NUMBA_CACHE_DIR"] = str(target)
    if "numba" in _sys.modules:                  # imported before corridor: its config is already read
        _sys.modules["numba"].config.CACHE_DIR = str(target)


_numba_cache_per_engine()
