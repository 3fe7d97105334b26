#!/usr/bin/env python
"""End-to-end benchmark of one scenario (default: us-mexico at scale 1), as `corridor run` does it.

    .venv/bin/python benchmarks/bench_scenario.py                      # scale 1, 3 repeats
    .venv/bin/python benchmarks/bench_scenario.py --scale 10 --repeats 5 --phases
    .venv/bin/python benchmarks/bench_scenario.py --set policies.mexico_enforcement=2

Each repeat is a fresh Python process that imports corridor, loads the scenario, runs it and writes
metrics.parquet + run.json to a temporary directory (`corridor run --no-report`, without the progress
bar). Reported per repeat and as the median:

* end-to-end wall seconds: interpreter start to exit, as a user timing the command would see it
  (Numba's on-disk cache warm: a warm-up run comes first unless --no-warmup);
* agent-days per second = agent-days / seconds, where agent-days = the number of active agents
  (created and not yet final: released, removed, gave up, ...) summed over simulated days, spin-up
  included (`sim.info["agent_days"]`). The same denominator is used for every phase, so a phase's
  rate says how fast the whole run would be if it were only that phase;
* bytes of agent state per agent (the struct-of-arrays columns) and the agent store's allocated bytes
  per agent created (including the growth headroom);
* peak memory: ru_maxrss of the fresh process (numpy buffers included).

--phases prints where sim.run() spends its time, from the engine's own per-phase wall seconds
(`phase_seconds` in run.json / sim.info, see _common.phase_table): each phase of corridor.phases
(departures, movement, ..., census: its step(day), glue and kernels together), `levers` (the day's lever
row and rules) and `record` (end_day and the metric book). "engine glue" is the rest of sim.run():
its wall time minus the sum of phase_seconds (building the run, the loop itself, to_frame). The engine
times every run, so --phases costs nothing; it only decides what is printed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def _worker(spec: str) -> None:
    a = json.loads(spec)
    C.write_result(C.run_scenario(a["scenario"], a["seed"], a["scale"], a.get("overrides")))


def _overrides(items: list[str]) -> dict:
    out = {}
    for s in items:
        k, _, v = s.partition("=")
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def measure(scenario="us-mexico", seed=1, scale=1.0, overrides=None, env=None) -> dict:
    """One fresh process; its result always carries the engine's phase_seconds (`phases`)."""
    spec = json.dumps({"scenario": scenario, "seed": seed, "scale": scale, "overrides": overrides or {}})
    return C.measure_in_subprocess([str(Path(__file__).resolve()), "--worker", spec], env)


def warm_up(scenario="us-mexico", seed=1, env=None) -> float:
    """One small run so that every kernel is in Numba's cache (compiles it when the cache is cold)."""
    m = measure(scenario, seed, 100.0, env=env)
    return m["process_wall_s"]


def baseline_rss() -> float:
    """Peak memory of a process that only imports what a run imports (the floor under every run)."""
    code = ("import _common as C, corridor.engine, corridor.results, pyarrow.parquet; C.write_result({})")
    m = C.measure_in_subprocess(["-c", f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); {code}"])
    return m["peak_rss_mib"]


def report(ms: list[dict], phases: bool) -> dict:
    info = ms[0]["info"]
    ad = info["agent_days"]
    med = {k: C.median([m[k] for m in ms]) for k in ("process_wall_s", "in_process_s", "import_s", "load_s", "run_s",
                                                    "save_s", "peak_rss_mib")}
    startup = C.median([m["process_wall_s"] - m["in_process_s"] + m["import_s"] for m in ms])
    print()
    print(f"scenario {info['scenario']} · scale {info['scale']:g} · seed {info['seed']} · {ms[0]['n_days']} days "
          f"(spin-up {info.get('spinup_days')}) · agents created {info['agents_created']:,} · agent-days {ad:,}")
    print(f"median of {len(ms)} fresh processes:")
    rows = [
        ("interpreter start + imports", startup),
        ("load scenario + compile world", med["load_s"]),
        ("sim.run()", med["run_s"]),
        ("save metrics.parquet + run.json", med["save_s"]),
        ("end to end (process wall)", med["process_wall_s"]),
    ]
    for name, s in rows:
        print(f"  {name:<34} {s:9.2f} s   {C.fmt_rate(ad, s):>9} M agent-days/s")
    bpa = info.get("bytes_per_agent")
    store = info.get("agent_store_bytes")
    print(f"  agent state: {bpa} bytes/agent (columns); store allocated {store / 2**20:,.1f} MiB = "
          f"{store / max(info['agents_created'], 1):.1f} bytes per agent created")
    print(f"  peak memory (ru_maxrss of the process): {med['peak_rss_mib']:,.0f} MiB")
    summary = {"info": info, "n_days": ms[0]["n_days"], "repeats": len(ms), "median": med, "startup_s": startup,
               "runs": [{k: m[k] for k in ("process_wall_s", "run_s", "peak_rss_mib", "load", "phases")} for m in ms]}
    if phases:
        n_days = ms[0]["n_days"]
        names = sorted({k for m in ms for k in m.get("phases", {})},
                       key=lambda k: -C.median([m["phases"].get(k, 0.0) for m in ms]))
        sec = {k: C.median([m["phases"].get(k, 0.0) for m in ms]) for k in names}
        glue = C.median([m["run_s"] - sum(m["phases"].values()) for m in ms])
        run = med["run_s"]
        print(f"\nwhere sim.run() spends its {run:.2f} s (engine's phase_seconds, median of {len(ms)}; "
              f"rate = all agent-days / phase seconds):")
        print(f"  {'phase':<18} {'seconds':>9} {'share':>7} {'M agent-days/s':>15} {'ms/day':>8}")
        for k in names:
            print(f"  {k:<18} {sec[k]:>9.3f} {100 * sec[k] / run:>6.1f}% {C.fmt_rate(ad, sec[k]):>15} "
                  f"{1e3 * sec[k] / n_days:>8.3f}")
        tot = sum(sec.values())
        print(f"  {'sum of phases':<18} {tot:>9.3f} {100 * tot / run:>6.1f}% {C.fmt_rate(ad, tot):>15} "
              f"{1e3 * tot / n_days:>8.3f}")
        print(f"  {'engine glue':<18} {glue:>9.3f} {100 * glue / run:>6.1f}% {C.fmt_rate(ad, glue):>15} "
              f"{1e3 * glue / n_days:>8.3f}   (sim.run() minus the sum of phase_seconds)")
        summary["phases"] = {k: {"s": sec[k], "share": sec[k] / run, "ms_per_day": 1e3 * sec[k] / n_days}
                             for k in names}
        summary["glue_s"] = glue
    return summary


def main(argv=None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--worker"]:
        return _worker(argv[1])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="us-mexico")
    ap.add_argument("--scale", type=float, default=1.0, help="people per agent (1 = every person an agent)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--phases", action="store_true",
                    help="print the engine's per-phase seconds (phase_seconds of run info) and the engine glue")
    ap.add_argument("--set", dest="set_", action="append", default=[], metavar="PATH=VALUE",
                    help="scenario override, as `corridor run --set` (repeatable)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment variable for the measured processes, e.g. OMP_WAIT_POLICY=PASSIVE (repeatable)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warm-up run (cache known to be warm)")
    ap.add_argument("--cli", action="store_true",
                    help="also time the real command `corridor run SCENARIO --out TMP --no-report -q` (--repeats times)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    a = ap.parse_args(argv)
    m = C.print_machine()
    env = C.measured_env(a.env)
    if not a.no_warmup:
        print(f"warm-up (scale 100, fills Numba's cache if cold): {warm_up(a.scenario, a.seed, env):.1f} s", flush=True)
    base = baseline_rss()
    print(f"floor: a process that only imports corridor + pyarrow peaks at {base:,.0f} MiB", flush=True)
    ms = []
    for r in range(a.repeats):
        before = C.load()
        x = measure(a.scenario, a.seed, a.scale, _overrides(a.set_), env)
        x["load"] = before
        ms.append(x)
        print(f"repeat {r + 1}/{a.repeats} ({before}): end to end {x['process_wall_s']:.2f} s, run {x['run_s']:.2f} s, "
              f"{C.fmt_rate(x['info']['agent_days'], x['process_wall_s'])} M agent-days/s end to end, "
              f"peak {x['peak_rss_mib']:,.0f} MiB", flush=True)
    s = report(ms, a.phases)
    s["machine"], s["import_floor_rss_mib"], s["env"] = m, base, env
    if a.cli:
        exe = str(Path(sys.executable).with_name("corridor"))
        cl = []
        for r in range(a.repeats):
            with tempfile.TemporaryDirectory(prefix="corridor-bench-") as tmp:
                cmd = [exe, "run", a.scenario, "--out", f"{tmp}/run", "--no-report", "-q", "--seed", str(a.seed),
                       "--scale", f"{a.scale:g}"] + [x for kv in a.set_ for x in ("--set", kv)]
                before = C.load()
                x = C.time_command(cmd, env)
            cl.append(x)
            print(f"corridor run {r + 1}/{a.repeats} ({before}): {x['process_wall_s']:.2f} s, peak {x['peak_rss_mib']:,.0f} MiB",
                  flush=True)
        wall = C.median([x["process_wall_s"] for x in cl])
        print(f"  `{' '.join(cmd[:1] + ['run'] + cmd[2:3] + ['--out', 'TMP'] + cmd[5:])}`: median {wall:.2f} s end to end, "
              f"{C.fmt_rate(s['info']['agent_days'], wall)} M agent-days/s, peak {C.median([x['peak_rss_mib'] for x in cl]):,.0f} MiB")
        s["cli"] = {"median_wall_s": wall, "runs": cl}
    if a.json:
        a.json.write_text(json.dumps(s, indent=2, default=float))


if __name__ == "__main__":
    main()
