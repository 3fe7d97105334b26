#!/usr/bin/env python
"""The speed record in one session: the run against the bare-walk ceiling, cold compile, branching.

    .venv/bin/python benchmarks/bench_speed.py                       # scale 1, everything
    .venv/bin/python benchmarks/bench_speed.py --scale 2 --skip-cold --json /tmp/speed.json

Measured one after the other, in the same session, so the load is as alike as a shared machine allows
(the load average is printed beside each figure):

1. ceiling: the bare Numba random walk of bench_movement.py (the engine's 64 chunks and counter-based
   draws) with --walk-agents agents for --walk-days days: agent-steps per second;
2. the bundled scenario end to end in a fresh process (bench_scenario.py's measurement, warm cache):
   agent-days per second, its ratio to the ceiling, the movement phase's own rate (all agent-days over
   its phase seconds), bytes of agent state per agent, the store's bytes, peak memory;
3. cold start: `corridor run SCENARIO --scale 200` in a fresh process on an empty Numba cache, then the
   same on the cache it filled; compile seconds ~ the difference;
4. branching: `compare_scenarios` of --variants at --branch-scale, in full and with `branch`, in fresh
   processes with an empty state cache; each variant after the first costs (branched - one run) / (n - 1).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import bench_movement as BM  # noqa: E402
import bench_scenario as BS  # noqa: E402

VARIANTS = ["status-quo", "contention", "reopen-only"]


def cold_start(scenario: str, scale: float) -> dict:
    exe = str(Path(sys.executable).with_name("corridor"))
    with tempfile.TemporaryDirectory(prefix="corridor-cold-") as cache, tempfile.TemporaryDirectory() as tmp:
        env = {"NUMBA_CACHE_DIR": cache}
        cmd = [exe, "run", scenario, "--scale", f"{scale:g}", "--no-report", "-q", "--force", "--out"]
        cold = C.time_command(cmd + [f"{tmp}/a"], env)
        warm = C.time_command(cmd + [f"{tmp}/b"], env)
    return {"cold_s": cold["process_wall_s"], "warm_s": warm["process_wall_s"],
            "compile_s": cold["process_wall_s"] - warm["process_wall_s"], "cold_peak_mib": cold["peak_rss_mib"]}


def _compare_worker(spec: str) -> None:
    a = json.loads(spec)
    import datetime as dt
    from corridor.compare import compare_scenarios
    from corridor.state import StateCache
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        branch = dt.date.fromisoformat(a["branch"]) if a["branch"] else None
        compare_scenarios(a["variants"], Path(tmp) / "cmp", scale=a["scale"], branch=branch,
                          state_cache=StateCache(Path(tmp) / "states") if branch else None)
    C.write_result({"seconds": time.perf_counter() - t0})


def branching(variants: list[str], scale: float, branch: str) -> dict:
    """compare of the variants in full and branched; a single run of the first for the unit cost."""
    me = str(Path(__file__).resolve())
    out = {}
    for label, b in (("full", None), ("branched", branch)):
        spec = json.dumps({"variants": variants, "scale": scale, "branch": b})
        out[label] = C.measure_in_subprocess([me, "--compare-worker", spec])["seconds"]
    one = C.measure_in_subprocess([me, "--compare-worker", json.dumps({"variants": variants[:1], "scale": scale,
                                                                       "branch": None})])["seconds"]
    n = len(variants)
    out["one_run"] = one
    out["per_extra_variant_runs"] = (out["branched"] - one) / (n - 1) / one
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--compare-worker"]:
        return _compare_worker(argv[1])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="us-mexico")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--walk-agents", type=int, default=400_000)
    ap.add_argument("--walk-days", type=int, default=943)
    ap.add_argument("--branch", default="2023-12-28")
    ap.add_argument("--branch-scale", type=float, default=2.0)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-branch", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    res = {"machine": C.print_machine(), "threads": os.environ.get("NUMBA_NUM_THREADS")}
    print(f"warm-up: {BS.warm_up(a.scenario):.1f} s", flush=True)

    w = BM.bench_walks(a.walk_agents, a.walk_days)["graph walk"]
    res["ceiling"] = {**w, "load": C.load()}
    print(f"1. ceiling, bare graph walk {w['agents']:,} agents x {w['days']} days: {w['rate'] / 1e6:,.1f} M agent-steps/s "
          f"({C.load()})", flush=True)

    m = BS.measure(a.scenario, 1, a.scale)
    info, ad = m["info"], m["info"]["agent_days"]
    rate = ad / m["process_wall_s"]
    mv = ad / m["phases"]["movement"]
    res["scenario"] = {"scale": a.scale, "agent_days": ad, "end_to_end_s": m["process_wall_s"], "run_s": m["run_s"],
                       "rate": rate, "ratio_to_ceiling": rate / w["rate"], "movement_rate": mv, "phases": m["phases"],
                       "bytes_per_agent": info["bytes_per_agent"], "agent_store_bytes": info["agent_store_bytes"],
                       "peak_rss_mib": m["peak_rss_mib"], "load": C.load()}
    print(f"2. {a.scenario} scale {a.scale:g}: {m['process_wall_s']:.2f} s end to end, {rate / 1e6:,.1f} M agent-days/s "
          f"= {rate / w['rate']:.3f} of the ceiling; movement {mv / 1e6:,.1f} M agent-days/s; "
          f"{info['bytes_per_agent']} B/agent, store {info['agent_store_bytes'] / 2**20:.1f} MiB, "
          f"peak {m['peak_rss_mib']:,.0f} MiB ({C.load()})", flush=True)
    print("   phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(m["phases"].items(), key=lambda kv: -kv[1])))

    if not a.skip_cold:
        c = cold_start(a.scenario, 200.0)
        res["cold"] = {**c, "load": C.load()}
        print(f"3. cold start, scale 200: {c['cold_s']:.1f} s on an empty cache, {c['warm_s']:.1f} s warm: "
              f"~{c['compile_s']:.1f} s compiling ({C.load()})", flush=True)
    if not a.skip_branch:
        b = branching(a.variants.split(","), a.branch_scale, a.branch)
        res["branch"] = {**b, "load": C.load()}
        print(f"4. compare of {a.variants} at scale {a.branch_scale:g}: {b['full']:.1f} s in full, {b['branched']:.1f} s "
              f"branched on {a.branch} (one run {b['one_run']:.1f} s): each variant after the first costs "
              f"{b['per_extra_variant_runs']:.2f} of a run ({C.load()})", flush=True)
    if a.json:
        a.json.write_text(json.dumps(res, indent=2, default=float))


if __name__ == "__main__":
    main()
