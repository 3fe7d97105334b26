"""corridor: an agent-based simulator of the migration corridor to the US southwest border."""
import os as _os

# Numba's OpenMP threads otherwise spin between the many short parallel phases of a day, burning the
# cores other processes (ensemble workers, tests) need; sleeping threads cost little here.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
