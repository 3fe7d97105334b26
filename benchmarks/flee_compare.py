#!/usr/bin/env python
"""Side by side with Flee 3.1 on one synthetic workload: N agents moving on a route graph for T days.

    # once: Flee lives in its own venv; it is not a dependency of corridor
    python3 -m venv /tmp/fleevenv && /tmp/fleevenv/bin/pip install flee==3.1

    .venv/bin/python benchmarks/flee_compare.py                      # 300 places, 100,000 agents, 50 days
    .venv/bin/python benchmarks/flee_compare.py --agents 20000 --days 30 --corridor-multiples 1,10,100

The workload (built once here, handed to both as the same lists of places and links):
* 300 places (--places): one origin at the south edge of a 1,500 x 2,500 km box, 5 border cities
  (--border) spread along its north edge, the rest transit towns scattered uniformly in between. Links:
  the Euclidean minimum spanning tree plus each place's 3 nearest neighbours, both directions, length =
  straight-line km. Travel speed = the median link length per day (so a typical link is a day's travel).
* N agents (--agents) leave the origin over T days (--days): N/T a day (Poisson in corridor, exact in
  Flee).

Flee 3.1 (Ecosystem / addLocation / linkUp / addAgent / evolve, configured without input files by a
minimal simsetting YAML): origin = a "conflict" location (move chance 1), transit places = "town"
(move chance 0.3, Flee's default), border cities = "camp" (move chance 0.001: they stay), awareness
level 1 route choice weighted by inverse distance, max_move_speed = the travel speed. Agents wander:
Flee has no notion of a destination per agent. Every agent in the ecosystem is evolved every day.

corridor: the real engine on an equivalent scenario built in memory: the same places (origin,
transit places with a mean dwell of 2.33 days ~ Flee's move chance 0.3, border cities each facing
one Border Patrol sector with one between-ports crossing), one leg per link direction (mode bus,
days = km / speed, no inspections, no capacity limits), one nationality heading for the 5 border
cities with equal weights, elasticity 0 (departures do not react), no spin-up. Each agent routes
toward its target city (logit over legs that bring it closer), then waits, crosses, is encountered,
held, processed and released or removed -- the whole day loop of every phase runs, so corridor does
more per agent-day than Flee; agents that finish leave the active list.

Compared: agent-steps per second of the simulation loop, where an agent-step is one agent present in
the simulation on one day (Flee: len(e.agents) each evolve(); corridor: sim.info["agent_days"], the
active agents summed over days), plus the wall seconds each needs for the same N agents over the same
T days. Setup (building the ecosystem / compiling the world) is reported apart; corridor's Numba
kernels are loaded from the on-disk cache by a tiny warm-up run first (as Flee's imports are done
before its clock starts). corridor can also be run at multiples of N (--corridor-multiples) to show
its rate once the fixed per-day cost of ~20 kernel launches is amortised.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FLEE_PY = "/tmp/fleevenv/bin/python"


# --------------------------------------------------------------------------- the shared workload

def build_graph(n_places=300, n_border=5, seed=7, width=1500.0, height=2500.0, k=3) -> dict:
    rng = np.random.default_rng(seed)
    n_transit = n_places - 1 - n_border
    xy = np.empty((n_places, 2))
    xy[0] = (width / 2, 0.0)                                                   # origin
    xy[1: 1 + n_border, 0] = np.linspace(width * 0.07, width * 0.93, n_border)  # border cities
    xy[1: 1 + n_border, 1] = height
    xy[1 + n_border:, 0] = rng.uniform(0, width, n_transit)
    xy[1 + n_border:, 1] = rng.uniform(height * 0.04, height * 0.96, n_transit)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    edges = set()
    # Prim's minimum spanning tree (connected), then k nearest neighbours (alternative routes)
    inside = np.zeros(n_places, bool)
    inside[0] = True
    best = d[0].copy()
    parent = np.zeros(n_places, int)
    for _ in range(n_places - 1):
        cand = np.where(inside, np.inf, best)
        j = int(np.argmin(cand))
        pj = int(parent[j])
        edges.add((min(j, pj), max(j, pj)))
        inside[j] = True
        closer = d[j] < best
        best = np.where(closer, d[j], best)
        parent = np.where(closer, j, parent)
    for i in range(n_places):
        for j in np.argsort(d[i])[1: k + 1]:
            edges.add((min(i, int(j)), max(i, int(j))))
    edges = sorted(edges)
    km = [float(round(d[a, b], 1)) for a, b in edges]
    speed = float(np.median(km))
    kinds = ["origin"] + ["border"] * n_border + ["transit"] * n_transit
    return {"n_places": n_places, "n_border": n_border, "xy": xy.round(1).tolist(), "kind": kinds,
            "edges": [[a, b] for a, b in edges], "km": km, "speed_km_day": round(speed, 1), "seed": seed}


# --------------------------------------------------------------------------- corridor's side

def corridor_scenario(g: dict, n_agents: int, days: int, seed: int = 1) -> dict:
    import datetime as dt
    start = dt.date(2023, 1, 1)
    speed = g["speed_km_day"]
    names = [f"p{i:03d}" for i in range(g["n_places"])]
    places, crossings, sectors, border = [], [], [], []
    for i, (kind, (x, y)) in enumerate(zip(g["kind"], g["xy"])):
        lat, lon = 14.0 + y / 111.0, -108.0 + x / 105.0
        p = {"id": names[i], "name": names[i], "country": "MX", "lat": lat, "lon": lon}
        if kind == "origin":
            p["kind"] = "origin"
        elif kind == "border":
            s = f"S{len(border)}"
            p.update(kind="border_city", sector=s)
            border.append(names[i])
            places.append({"id": f"{s}-site", "name": f"{s} processing", "kind": "sector", "country": "US",
                           "lat": min(lat + 0.3, 89.0), "lon": lon})
            crossings.append({"id": f"{s}-between", "name": f"between ports {s}", "kind": "between_ports",
                              "city": names[i], "sector": s, "lat": lat + 0.1, "lon": lon})
            sectors.append({"name": s, "city": f"{s}-site", "processing_capacity": 1.0e6, "holding_capacity": 1.0e7,
                            "gotaway_share": 0.1})
        else:
            p.update(kind="transit", dwell_days=2.33)
        places.append(p)
    legs = []
    for (a, b), km in zip(g["edges"], g["km"]):
        for u, v in ((a, b), (b, a)):
            legs.append({"id": f"{names[u]}-{names[v]}", "from": names[u], "to": names[v], "mode": "bus", "km": km,
                         "days": max(km / speed, 0.01), "cost_usd": 0.0, "region": "north_mexico"})
    return {
        "name": "flee-compare", "description": "synthetic route graph shared with benchmarks/flee_compare.py",
        "start": str(start), "end": str(start + dt.timedelta(days=days - 1)), "spinup_days": 0, "seed": seed,
        "scale": 1.0, "places": places, "legs": legs, "crossings": crossings, "sectors": sectors,
        "nationalities": [{
            "name": "Synthetic", "origins": {names[0]: 1.0}, "border_cities": {b: 1.0 for b in border},
            "departures": {"base_per_day": n_agents / days, "elasticity": 0.0},
            "title42_expulsion": 0.0, "title8_removal": 0.1,
        }],
        "policies": {"regime": "title8", "return_south_to": names[0]},
    }


def run_corridor(g: dict, n_agents: int, days: int, seed: int = 1) -> dict:
    from corridor.engine import Simulation
    from corridor.scenario import Scenario
    t0 = time.perf_counter()
    sim = Simulation(Scenario.model_validate(corridor_scenario(g, n_agents, days, seed)))
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run()
    loop = time.perf_counter() - t0
    return {"agents": sim.info["agents_created"], "agent_steps": sim.info["agent_days"], "setup_s": setup,
            "loop_s": loop, "active_last_day": int(sim._pop.n)}


# --------------------------------------------------------------------------- Flee's side (runs in /tmp/fleevenv)

FLEE_YML = """\
log_levels: {agent: 0, link: 0, camp: 0, init: 0, conflict: 0, idp_totals: 0}
spawn_rules: {take_from_population: False, insert_day0: False}
move_rules:
  max_move_speed: %(speed)s
  max_walk_speed: 35.0
  awareness_level: 1
  default_movechance: 0.3
  camp_movechance: 0.001
optimisations: {hasten: 1}
"""


def flee_worker(graph_path: str, n_agents: int, days: int, seed: int) -> dict:
    import random
    from flee import flee
    from flee.SimulationSettings import SimulationSettings
    g = json.loads(Path(graph_path).read_text())
    random.seed(seed)
    np.random.seed(seed)
    t0 = time.perf_counter()
    devnull = open(os.devnull, "w")
    real_err, sys.stderr = sys.stderr, devnull     # Flee prints every location and setting to stderr
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write(FLEE_YML % {"speed": g["speed_km_day"]})
        SimulationSettings.ReadFromYML(f.name)
        os.unlink(f.name)
        e = flee.Ecosystem()
        locs = []
        for i, (kind, (x, y)) in enumerate(zip(g["kind"], g["xy"])):
            lt = {"origin": "conflict", "border": "camp", "transit": "town"}[kind]
            locs.append(e.addLocation(f"p{i:03d}", x=float(x), y=float(y), location_type=lt, country="MX"))
        for (a, b), km in zip(g["edges"], g["km"]):
            e.linkUp(f"p{a:03d}", f"p{b:03d}", float(km))
    finally:
        sys.stderr = real_err
    setup = time.perf_counter() - t0
    origin = locs[0]
    per_day = np.diff(np.round(np.linspace(0, n_agents, days + 1)).astype(int))
    steps = 0
    t0 = time.perf_counter()
    for d in range(days):
        for _ in range(per_day[d]):
            e.addAgent(origin, {})
        e.evolve()
        steps += len(e.agents)
    loop = time.perf_counter() - t0
    at_camps = sum(l.numAgents for l in locs if l.camp)
    import flee as flee_pkg
    return {"agents": len(e.agents), "agent_steps": steps, "setup_s": setup, "loop_s": loop,
            "in_camps_last_day": int(at_camps), "flee_version": getattr(flee_pkg, "__version__", "3.1"),
            "flee_file": flee.__file__}


def run_flee(g: dict, n_agents: int, days: int, seed: int, python: str, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(g, f)
    try:
        p = subprocess.run([python, str(Path(__file__).resolve()), "--flee-worker", f.name, str(n_agents), str(days),
                            str(seed)], capture_output=True, text=True, timeout=timeout)
    finally:
        os.unlink(f.name)
    if p.returncode != 0:
        raise RuntimeError(f"Flee run failed (status {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main

def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--flee-worker"]:
        print(json.dumps(flee_worker(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--places", type=int, default=300)
    ap.add_argument("--border", type=int, default=5)
    ap.add_argument("--agents", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--graph-seed", type=int, default=7)
    ap.add_argument("--corridor-multiples", default="1,10", help="also run corridor with these multiples of --agents")
    ap.add_argument("--flee-python", default=FLEE_PY)
    ap.add_argument("--flee-timeout", type=float, default=1800)
    ap.add_argument("--skip-flee", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import _common as C
    m = C.print_machine()
    g = build_graph(a.places, a.border, a.graph_seed)
    print(f"workload: {a.places} places ({a.border} border cities), {len(g['edges'])} links "
          f"(median {g['speed_km_day']} km = 1 day), {a.agents:,} agents leaving over {a.days} days", flush=True)
    res = {"machine": m, "workload": {k: g[k] for k in ("n_places", "n_border", "speed_km_day", "seed")} |
           {"links": len(g["edges"]), "agents": a.agents, "days": a.days}}

    flee_r = None
    if not a.skip_flee:
        if not Path(a.flee_python).exists():
            raise SystemExit(f"{a.flee_python} not found; install Flee apart from corridor:\n"
                             f"  python3 -m venv /tmp/fleevenv && /tmp/fleevenv/bin/pip install flee==3.1\n"
                             f"or pass --flee-python, or --skip-flee")
        print(f"Flee 3.1 ({a.flee_python}) running ... ({C.load()})", flush=True)
        flee_r = run_flee(g, a.agents, a.days, a.seed, a.flee_python, a.flee_timeout)
        res["flee"] = flee_r
        print(f"  Flee: {flee_r['agents']:,} agents, {flee_r['agent_steps']:,} agent-steps in {flee_r['loop_s']:.2f} s "
              f"(+ setup {flee_r['setup_s']:.2f} s): {flee_r['agent_steps'] / flee_r['loop_s'] / 1e6:.3f} M agent-steps/s; "
              f"{flee_r['in_camps_last_day']:,} in border-city camps at the end", flush=True)

    run_corridor(g, 2000, 5, a.seed)  # warm-up: load the kernels from Numba's cache
    rows = []
    for mult in [float(x) for x in a.corridor_multiples.split(",") if x]:
        n = int(a.agents * mult)
        before = C.load()
        r = run_corridor(g, n, a.days, a.seed)
        r["multiple"] = mult
        r["load"] = before
        rows.append(r)
        print(f"  corridor x{mult:g} ({before}): {r['agents']:,} agents, {r['agent_steps']:,} agent-steps in "
              f"{r['loop_s']:.2f} s (+ setup {r['setup_s']:.2f} s): {r['agent_steps'] / r['loop_s'] / 1e6:.2f} M "
              f"agent-steps/s; {r['active_last_day']:,} still active at the end", flush=True)
    res["corridor"] = rows

    print()
    print(f"{'simulator':<22} {'agents':>10} {'agent-steps':>13} {'loop s':>8} {'setup s':>8} {'M steps/s':>10}")
    table = ([("Flee 3.1", flee_r)] if flee_r else []) + [(f"corridor (x{r['multiple']:g} agents)", r) for r in rows]
    for name, r in table:
        print(f"{name:<22} {r['agents']:>10,} {r['agent_steps']:>13,} {r['loop_s']:>8.2f} {r['setup_s']:>8.2f} "
              f"{r['agent_steps'] / r['loop_s'] / 1e6:>10.3f}")
    if flee_r and rows:
        same = next((r for r in rows if r["multiple"] == 1.0), rows[0])
        fr = flee_r["agent_steps"] / flee_r["loop_s"]
        cr = same["agent_steps"] / same["loop_s"]
        best = max(r["agent_steps"] / r["loop_s"] for r in rows)
        print(f"\nsame workload ({a.agents:,} agents, {a.days} days): corridor {cr / fr:,.0f}x Flee's agent-steps/s; "
              f"wall {flee_r['loop_s']:.2f} s (Flee) vs {same['loop_s']:.2f} s (corridor) = {flee_r['loop_s'] / same['loop_s']:,.0f}x")
        print(f"corridor's best rate over the multiples: {best / 1e6:.2f} M agent-steps/s = {best / fr:,.0f}x Flee")
        res["ratio_same_workload"] = cr / fr
        res["wall_ratio_same_workload"] = flee_r["loop_s"] / same["loop_s"]
        res["ratio_best"] = best / fr
    if a.json:
        a.json.write_text(json.dumps(res, indent=2, default=float))


if __name__ == "__main__":
    main()
