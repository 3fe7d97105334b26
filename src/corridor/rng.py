"""Counter-based random numbers: a draw is a pure function of (seed, stream, day, agent).

No generator state is carried between draws, so results do not depend on the number of threads,
the order agents are visited in, or where a run runs; and two scenarios run with the same seed
give each agent the same draws (common random numbers) as long as the agent exists in both.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Streams: one per decision, so adding a decision never shifts another's draws.
S_DEPART, S_ORIGIN, S_TARGET, S_ROUTE, S_ADMIT, S_LEGDAYS, S_DWELL, S_INSPECT, S_MXOUT, S_MXTIMER = range(10)
S_SEEK, S_SLOT, S_CROSS, S_GIVEUP, S_PORT, S_GOTAWAY, S_OUTCOME, S_PROCESS, S_OVERFLOW, S_RETRY = range(10, 20)
S_FLIGHT, S_REGROUP, S_COHESION, S_CARAVAN, S_PAROLE, S_NATDRAW, S_ACCEPT, S_SPINUP, S_QUIT, S_PANAMA = range(20, 30)
S_HOLD = 30   # leaving Border Patrol custody after processing
S_MXSOUTH = S_MXOUT + 100  # bused south or released, after a detention in Mexico (its number predates the list)


@njit(inline="always", cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of 64 bits."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def day_key(seed, day):
    """Key of one (seed, day); stream and agent are mixed in by `uniform`."""
    return mix64(mix64(np.uint64(seed) + _GOLDEN) ^ (np.uint64(day) * _M2 + np.uint64(0x632BE59BD9B4E019)))


@njit(inline="always", cache=True)
def uniform(key, stream, i):
    """A uniform draw in [0, 1) for (key=seed+day, stream, agent i)."""
    z = mix64(key ^ (np.uint64(stream) * _M1) ^ (np.uint64(i) * _GOLDEN))
    z = mix64(z + _GOLDEN)
    return np.float64(z >> np.uint64(11)) * _TO_UNIT


@njit(inline="always", cache=True)
def exp_days(mean, u):
    """Whole days of an exponential wait with this mean (at least 1 when mean > 0)."""
    if mean <= 0.0:
        return 0
    d = -mean * np.log(1.0 - u)
    return max(1, int(np.ceil(d)))


@njit(cache=True)
def poisson(lam, key, stream, i):
    """Poisson count from counter-based draws: inversion for small means, normal beyond 40."""
    if lam <= 0.0:
        return 0
    if lam < 40.0:
        u = uniform(key, stream, i)
        p = np.exp(-lam)
        c = p
        k = 0
        while u > c and k < 1000:
            k += 1
            p *= lam / k
            c += p
        return k
    u1 = max(uniform(key, stream, i), 1e-300)
    u2 = uniform(key, stream, i + 1_000_003)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return max(0, int(np.floor(lam + np.sqrt(lam) * z + 0.5)))
