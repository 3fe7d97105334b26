"""Fixtures shared by the test modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_thread():
    """Runs in a module of small runs: numba's thread pool costs more than it saves (with OpenMP's default
    spin-wait, ~50x more CPU on a busy 2-core machine). Results do not depend on the thread count (test_engine)."""
    import numba
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(n)


@pytest.fixture(scope="session", autouse=True)
def state_cache(tmp_path_factory):
    """Saved run states (branching) go to a folder of the test session, not the user's cache."""
    import os
    old = os.environ.get("CORRIDOR_STATE_DIR")
    os.environ["CORRIDOR_STATE_DIR"] = str(tmp_path_factory.mktemp("states"))
    yield
    if old is None:
        os.environ.pop("CORRIDOR_STATE_DIR", None)
    else:
        os.environ["CORRIDOR_STATE_DIR"] = old
