#!/usr/bin/env python
"""The movement phase alone, and a bare Numba random walk as the practical ceiling.

    .venv/bin/python benchmarks/bench_movement.py                  # us-mexico scale 1, state of the middle day
    .venv/bin/python benchmarks/bench_movement.py --scale 10 --day 600 --repeats 30
    .venv/bin/python benchmarks/bench_movement.py --walk-agents 20000000 --walk-days 20

1. Movement: runs us-mexico up to day --day (default: the middle of the run), keeps a copy of
   everything the movement kernel `corridor.phases.movement.movement` is given that day by
   `Movement.step` (the agent columns, the agents to move, the route table, seat chances, ...), stops
   the run, then calls that kernel --repeats times as the engine does (`over_chunks`, on numba's
   threads), each time on a fresh copy of that state (the copy is not timed). Rate = active agents that
   day (`day.n_active`) / median seconds per call (the same agent-days denominator as
   bench_scenario.py); the rate per agent the kernel is actually given (the engine hands it only
   `day.in_transit`, the in-transit part of the store) is printed too. Only the kernel is timed: the route table `Movement.step` builds first is not.
2. Ceiling: a bare random walk, N agents on the same us-mexico leg graph, each day each agent draws
   one counter-based uniform (corridor.rng.uniform, keyed on seed, day and agent like the engine)
   and takes a uniformly chosen out-leg (`graph walk`), or steps +-1 on a line (`line walk`). One
   parallel kernel call a day over 64 chunks, as the engine's kernels do. Rate = agents x days /
   seconds. This is the most a day-stepped agent loop in Numba can do on this machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from corridor import rng as R  # noqa: E402
from corridor.phases.common import N_CHUNKS, chunk, over_chunks  # noqa: E402  (the engine's own chunking)


class _Captured(Exception):
    pass


def capture_movement_state(scale: float, day: int | None, seed: int = 1):
    """Run us-mexico until `day` and return (args, kwargs, day, n_days, all_active) of that day's call of
    the movement kernel. `Movement.step` calls it by module global, so the spy replaces
    `corridor.phases.movement.movement` for the run and puts the real kernel back after."""
    import corridor.phases.movement as M
    from corridor.engine import Simulation
    sim = Simulation.from_scenario("us-mexico", seed=seed, scale=scale)
    n_days = sim.world.n_days
    want = n_days // 2 if day is None else int(day)
    box = {}
    calls = {"n": 0}
    real = M.movement

    def spy(*a, **kw):
        # over_chunks(movement, ...) calls the kernel once per thread with its share of chunks (c0, c1)
        # last; a day starts with the share whose c0 is 0
        if a[-2] == 0 and calls["n"] == want:
            # everyone active that day (the engine's agent-days denominator): `day.n_active` of
            # Movement.step(self, day), two frames up (over_chunks between)
            frame = sys._getframe(2).f_locals
            box["all_active"] = getattr(frame.get("day"), "n_active", None)
            # the kernel gets the columns packed (corridor.packed); the copy is made of the columns themselves
            a = (frame["self"].run.pop.view(),) + a[1:]
            box["args"] = tuple(_copy(x) for x in a[:-2])
            box["kwargs"] = {k: _copy(v) for k, v in kw.items()}
            raise _Captured
        if a[-2] == 0:
            calls["n"] += 1
        return real(*a, **kw)

    M.movement = spy
    try:
        sim.run()
    except _Captured:
        pass
    finally:
        M.movement = real
    if "args" not in box:
        raise SystemExit(f"the run has fewer than {want + 1} days")
    return box["args"], box["kwargs"], want, n_days, box["all_active"]


def _copy(x):
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, tuple) and hasattr(x, "_fields") and all(isinstance(v, np.ndarray) for v in x):
        if type(x).__name__ == "Agents":
            return type(x)(*(v.copy() for v in x))
    return x


def _restore(dst, src):
    """Put the captured state back into the working copy (in place, not timed)."""
    for d, s in zip(dst, src):
        if isinstance(d, np.ndarray):
            np.copyto(d, s)
        elif isinstance(d, tuple) and type(d).__name__ == "Agents":
            for a, b in zip(d, s):
                np.copyto(a, b)


def bench_movement(scale, day, repeats, seed=1) -> dict:
    from corridor.phases.movement import movement as kernel
    from corridor.codes import IN_TRANSIT
    from corridor.packed import pack
    t0 = time.perf_counter()
    args, kwargs, d, n_days, all_active = capture_movement_state(scale, day, seed)
    t_cap = time.perf_counter() - t0
    ag = next(x for x in args if type(x).__name__ == "Agents")
    first, last = args[1], args[2]  # movement(ag, *day.in_transit, net, lv, d, key, route, ...)
    n_active = int(last - first)
    st, leg = ag.status[first:last], ag.leg[first:last]
    n_transit = int(np.count_nonzero(st == IN_TRANSIT))
    n_on_leg = int(np.count_nonzero((st == IN_TRANSIT) & (leg >= 0)))
    work = tuple(_copy(x) for x in args)
    call = (pack(work[0]),) + work[1:]    # the same arrays as work's, as the kernel takes them
    over_chunks(kernel, *call, **kwargs)  # first call: load from cache (not timed)
    times = []
    for _ in range(repeats):
        _restore(work, args)
        t0 = time.perf_counter()
        over_chunks(kernel, *call, **kwargs)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return {"scale": scale, "day": d, "n_days": n_days, "capture_s": t_cap, "active": n_active, "all_active": all_active,
            "in_transit": n_transit, "on_leg": n_on_leg, "median_s": med, "min_s": float(min(times)),
            "repeats": repeats}


# --------------------------------------------------------------------------- the ceiling: bare random walks

@njit(parallel=True, cache=True)
def graph_walk_day(pos, out_start, out_legs, leg_to, key):
    n = pos.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = chunk(n, c)
        for i in range(lo, hi):
            p = pos[i]
            a = out_start[p]
            deg = out_start[p + 1] - a
            if deg > 0:
                u = R.uniform(key, 3, i)
                pos[i] = leg_to[out_legs[a + int(u * deg)]]


@njit(parallel=True, cache=True)
def line_walk_day(pos, key):
    n = pos.shape[0]
    for c in prange(N_CHUNKS):
        lo, hi = chunk(n, c)
        for i in range(lo, hi):
            if R.uniform(key, 3, i) < 0.5:
                pos[i] -= 1
            else:
                pos[i] += 1


def bench_walks(n_agents: int, days: int, seed: int = 1) -> dict:
    from corridor.scenario import load
    from corridor.world import compile_world
    w = compile_world(load("us-mexico"))
    net = w.net
    # restart from any dead end: give places without out-legs a leg back to a start place (a copy of the graph)
    out_start, out_legs = net.out_start.astype(np.int64), net.out_legs.astype(np.int64)
    leg_to = net.leg_to.astype(np.int64)
    n_place = out_start.shape[0] - 1
    deg = np.diff(out_start)
    origins = np.unique(net.nat_origin_place)
    dead = np.flatnonzero(deg == 0)
    if dead.size:  # dead ends (border cities, sector sites) send the walker back to an origin
        extra_to = origins[np.arange(dead.size) % origins.size]
        new_legs, new_start = [], [0]
        ne = leg_to.shape[0]
        extra = {}
        for j, p in enumerate(dead):
            extra[p] = ne + j
        for p in range(n_place):
            lst = list(out_legs[out_start[p]: out_start[p + 1]]) + ([extra[p]] if p in extra else [])
            new_legs += lst
            new_start.append(len(new_legs))
        out_legs = np.array(new_legs, np.int64)
        out_start = np.array(new_start, np.int64)
        leg_to = np.concatenate([leg_to, extra_to]).astype(np.int64)
    res = {}
    pos16 = np.zeros(n_agents, np.int16)
    pos16[:] = origins[np.arange(n_agents) % origins.size]
    pos32 = np.zeros(n_agents, np.int32)
    for name, fn, arg in (("graph walk", lambda k: graph_walk_day(pos16, out_start, out_legs, leg_to, k), None),
                          ("line walk", lambda k: line_walk_day(pos32, k), None)):
        fn(np.uint64(R.day_key(np.uint64(seed), np.uint64(10_000))))  # load / compile
        t0 = time.perf_counter()
        for d in range(days):
            fn(np.uint64(R.day_key(np.uint64(seed), np.uint64(d))))
        s = time.perf_counter() - t0
        res[name] = {"agents": n_agents, "days": days, "seconds": s, "rate": n_agents * days / s}
    res["graph"] = {"places": int(n_place), "legs": int(leg_to.shape[0])}
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--day", type=int, default=None, help="day index of the captured state (default: middle)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--walk-agents", type=int, default=10_000_000)
    ap.add_argument("--walk-days", type=int, default=20)
    ap.add_argument("--skip-movement", action="store_true")
    ap.add_argument("--skip-walk", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    m = C.print_machine()
    out = {"machine": m}
    if not a.skip_movement:
        print(f"capturing the state of us-mexico (scale {a.scale:g}) on day {a.day if a.day is not None else 'mid-run'} ...",
              flush=True)
        r = bench_movement(a.scale, a.day, a.repeats, a.seed)
        out["movement"] = r
        allx = r["all_active"] or r["active"]
        print(f"movement kernel, day {r['day']} of {r['n_days']} ({C.load()} after): {allx:,} agents active that day; "
              f"the kernel is given {r['active']:,} of them ({r['in_transit']:,} in transit, {r['on_leg']:,} of those on a leg)")
        print(f"  median {1e3 * r['median_s']:.2f} ms per call (min {1e3 * r['min_s']:.2f}, {r['repeats']} calls): "
              f"{allx / r['median_s'] / 1e6:,.1f} M agent-days/s counting every active agent (bench_scenario's denominator); "
              f"{r['active'] / r['median_s'] / 1e6:,.1f} M/s per agent given to the kernel", flush=True)
    if not a.skip_walk:
        w = bench_walks(a.walk_agents, a.walk_days, a.seed)
        out["walks"] = w
        print(f"bare Numba random walks with corridor.rng.uniform ({C.load()} after), "
              f"graph: us-mexico's {w['graph']['places']} places / {w['graph']['legs']} legs:")
        for name in ("graph walk", "line walk"):
            x = w[name]
            print(f"  {name:<11} {x['agents']:,} agents x {x['days']} days in {x['seconds']:.2f} s: "
                  f"{x['rate'] / 1e6:,.1f} M agent-steps/s")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
