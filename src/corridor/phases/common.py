"""What every phase's kernels share: the fixed chunks, the books of final statuses, identities, draws.

Every kernel has the same shape: a serial loop over a range of a fixed number of chunks (not threads, so
results do not depend on the thread count), each chunk counting into its own tally row::

    @njit(nogil=True, cache=True)
    def movement(ag, first, last, ..., tal, o, c0, c1):
        n = last - first
        for c in range(c0, c1):
            lo, hi = chunk(n, c)
            row = tal[c]
            for i in range(first + lo, first + hi):
                ...

    over_chunks(movement, ag, *day.rows, ..., tal, o)

`over_chunks` splits the chunks between Python threads; the kernels release the GIL, so the threads run
at once. This replaces numba's `prange` drivers, which took ~8 s each to compile (most of a cold start)
and a separate per-chunk function more, for no speed a thread pool does not give.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from .. import rng as R
from ..codes import DECIDE_RETRY, FIRST_SINK, NO_GROUP, NO_LEG, REGROUPING
from ..tally import Block, slots

N_CHUNKS = 64

SHARED = (
    Block("sink", "sink", "agents reaching each final status today (the books add them to yesterday's)"),
    Block("good", "nationality", "good outcomes today (released, evaded): the news that reaches origins"),
    Block("bad", "nationality", "bad outcomes today (returned, removed, deported)"),
    Block("releases", "one", "released into the US"),
    Block("removals", "one", "removed by flight, or Mexicans removed over land"),
    Block("returns", "one", "non-Mexicans returned to Mexico (Title 42 expulsions included)"),
    Block("expulsions", "one", "Title 42 expulsions"),
    Block("return_demand", "one", "non-Mexicans the US asked Mexico to take back (for the cap's lottery)"),
    Block("ice_in", "nationality", "entering ICE detention to wait for a removal flight"),
)
S = slots(SHARED)
_POOL: list = [None, 0]        # the thread pool and its size, made on first use


def over_chunks(kernel, *args) -> None:
    """kernel(*args, c0, c1) over chunks [0, N_CHUNKS), split in contiguous shares between numba's
    number of threads (`numba.set_num_threads` and NUMBA_NUM_THREADS set it); this thread takes the first."""
    t = max(1, min(numba.get_num_threads(), N_CHUNKS))
    if t == 1:
        kernel(*args, 0, N_CHUNKS)
        return
    if _POOL[1] < t - 1:
        if _POOL[0] is not None:
            _POOL[0].shutdown()
        _POOL[:] = [ThreadPoolExecutor(t - 1, thread_name_prefix="corridor-chunks"), t - 1]
    cuts = [k * N_CHUNKS // t for k in range(t + 1)]
    futures = [_POOL[0].submit(kernel, *args, cuts[k], cuts[k + 1]) for k in range(1, t)]
    kernel(*args, cuts[0], cuts[1])
    for f in futures:
        f.result()


@njit(inline="always", cache=True)
def chunk(n, c):
    """Bounds [lo, hi) of chunk c of n rows."""
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    lo = c * size
    return lo, min(n, lo + size)


@njit(inline="always", cache=True)
def to_sink(ag, i, status, day, row, o):
    """A final status: counted in today's books, the agent leaves the store tonight."""
    ag.status[i] = status
    ag.since[i] = day
    ag.leg[i] = NO_LEG
    row[o[S.sink] + status - FIRST_SINK] += 1


@njit(inline="always", cache=True)
def home(ag, i, d):
    """Sent back to the country of origin: `retries` decides later today whether they set out again."""
    ag.leg[i] = NO_LEG
    ag.group[i] = NO_GROUP
    ag.since[i] = d
    ag.status[i] = REGROUPING
    ag.timer[i] = DECIDE_RETRY


@njit(cache=True)
def draw_cum(cum, lo, hi, u):
    """Index in [lo, hi) of a draw u from cumulative weights cum[lo:hi]."""
    for k in range(lo, hi):
        if u < cum[k]:
            return k
    return hi - 1


@njit(cache=True)
def draw_target(target_cum, nat, u):
    """A border city drawn from today's split of the nationality (cumulative weights)."""
    row = target_cum[nat]
    for t in range(row.shape[0]):
        if u < row[t]:
            return t
    return row.shape[0] - 1


@njit(inline="always", cache=True)
def person_key(day, cohort, k):
    """A person's random-number identity: the k-th to leave on `day` in `cohort` (a nationality, or
    CARAVAN_COHORT + a caravan). Two scenarios give the same person the same draws even when earlier
    differences changed how many others were created (common random numbers)."""
    return R.mix64((np.uint64(day) << np.uint64(40)) ^ (np.uint64(cohort) << np.uint64(24)) ^ np.uint64(k))


@njit(inline="always", cache=True)
def group_key(g):
    """A caravan's shared random-number identity: its members draw together, so they stay together."""
    return R.mix64(np.uint64(0xCA7A7A) + np.uint64(g))


@njit(inline="always", cache=True)
def origin_of(net, nat, u):
    """An origin place of the nationality, drawn from its weights."""
    lo = net.nat_origin_start[nat]
    return net.nat_origin_place[draw_cum(net.nat_origin_cum, lo, net.nat_origin_start[nat + 1], u)]
