#!/usr/bin/env python
"""Scaling table: does the cost grow linearly with the number of agents?

    .venv/bin/python benchmarks/bench_scaling.py                   # scale 100, 10, 1; 2x and 4x departures at scale 1
    .venv/bin/python benchmarks/bench_scaling.py --scales 1000,100 --base-scale 100   # quick check

Rows: us-mexico at each scale (people per agent), then at `--base-scale` with every nationality's
`departures.base_per_day` multiplied by 2 and by 4 (read from corridor.scenario.load("us-mexico") and
overridden by name: `nationalities.<Name>.departures.base_per_day`). Departures respond to the
perceived chance of entry and queues fill, so 2x the base rate is not exactly 2x the agents; the
table prints the agents and agent-days each run really had. Caravans and parole are not multiplied.

Each row is the median of --repeats fresh processes (see bench_scenario.py); `run s` is sim.run()
alone, `e2e s` the whole process (start-up, load, run, save). ns per agent-day = run seconds /
agent-days. A line fitted through (agent-days, run seconds) splits the cost into a fixed part (per
run: the day loop's Python and kernel launches, ~1,000 days) and a marginal cost per agent-day:
linear scaling means the marginal cost holds from the smallest run to the largest.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import bench_scenario as B  # noqa: E402


def rate_overrides(factor: float) -> dict:
    from corridor.scenario import load
    sc = load("us-mexico")
    return {f"nationalities.{n.name}.departures.base_per_day": n.departures.base_per_day * factor
            for n in sc.nationalities}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="100,10,1", help="comma-separated people-per-agent values")
    ap.add_argument("--rates", default="2,4", help="departure-rate multipliers run at --base-scale ('' for none)")
    ap.add_argument("--base-scale", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment variable for the measured processes (repeatable)")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    m = C.print_machine()
    env = C.measured_env(a.env)
    if not a.no_warmup:
        print(f"warm-up (scale 100): {B.warm_up(seed=a.seed, env=env):.1f} s", flush=True)
    cases = [(f"scale {float(s):g}", float(s), 1.0) for s in a.scales.split(",") if s]
    cases += [(f"scale {a.base_scale:g}, {float(f):g}x departures", a.base_scale, float(f))
              for f in a.rates.split(",") if f]
    rows = []
    for label, scale, factor in cases:
        ms = []
        for _ in range(a.repeats):
            before = C.load()
            x = B.measure(seed=a.seed, scale=scale, overrides=rate_overrides(factor) if factor != 1.0 else None,
                          env=env)
            x["load"] = before
            ms.append(x)
        info = ms[0]["info"]
        row = {"case": label, "scale": scale, "rate_factor": factor, "agents": info["agents_created"],
               "agent_days": info["agent_days"], "run_s": C.median([x["run_s"] for x in ms]),
               "e2e_s": C.median([x["process_wall_s"] for x in ms]),
               "peak_rss_mib": C.median([x["peak_rss_mib"] for x in ms]), "load": ms[0]["load"]}
        rows.append(row)
        print(f"  {label}: {row['agents']:,} agents, {row['agent_days']:,} agent-days, run {row['run_s']:.2f} s, "
              f"e2e {row['e2e_s']:.2f} s ({row['load']} before)", flush=True)

    print()
    hdr = (f"{'case':<28} {'agents':>12} {'agent-days':>15} {'run s':>8} {'e2e s':>8} {'M a-d/s run':>12} "
           f"{'M a-d/s e2e':>12} {'ns/a-d run':>11} {'peak MiB':>9}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['case']:<28} {r['agents']:>12,} {r['agent_days']:>15,} {r['run_s']:>8.2f} {r['e2e_s']:>8.2f} "
              f"{r['agent_days'] / r['run_s'] / 1e6:>12.1f} {r['agent_days'] / r['e2e_s'] / 1e6:>12.1f} "
              f"{1e9 * r['run_s'] / r['agent_days']:>11.1f} {r['peak_rss_mib']:>9,.0f}")
    if len(rows) >= 2:
        import numpy as np
        x = np.array([r["agent_days"] for r in rows], float)
        y = np.array([r["run_s"] for r in rows], float)
        slope, icpt = np.polyfit(x, y, 1)
        pred = icpt + slope * x
        worst = float(np.max(np.abs(pred - y) / y))
        print(f"\nleast-squares line through (agent-days, run s): fixed {icpt:.2f} s per run + "
              f"{1e9 * slope:.1f} ns per agent-day (marginal {1e-6 / slope if slope > 0 else float('inf'):,.1f} M agent-days/s); "
              f"largest relative miss {100 * worst:.0f}%")
        big = max(rows, key=lambda r: r["agent_days"])
        print(f"largest run: {big['agent_days'] / big['run_s'] / 1e6:.1f} M agent-days/s in sim.run()")
    if a.json:
        a.json.write_text(json.dumps({"machine": m, "env": env, "rows": rows}, indent=2, default=float))


if __name__ == "__main__":
    main()
