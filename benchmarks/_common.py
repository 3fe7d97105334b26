"""Shared pieces of the benchmark scripts: machine facts, fresh-process measurements, per-phase seconds.

Not part of the corridor package. Every measurement that reports peak memory runs in a fresh Python
process (`measure_in_subprocess`), so `ru_maxrss` (from `os.wait4`) is that run's own peak, numpy
buffers included -- tracemalloc would miss them.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- machine

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    info = {"date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "nproc": os.cpu_count(), "cpu": cpu,
            "ram_gib": round(mem_gib, 1), "python": platform.python_version()}
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src/corridor"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        info["commit"] = head + (" + uncommitted changes in src/corridor" if dirty else "")
    except OSError:
        pass
    try:  # the corridor this interpreter imports (another venv may hold another checkout)
        import importlib.util
        spec = importlib.util.find_spec("corridor")
        pkg = Path(spec.origin).resolve().parent if spec and spec.origin else None
        if pkg is not None and ROOT / "src" / "corridor" != pkg:
            info["corridor_from"] = str(pkg)
    except (ImportError, ValueError):
        pass
    try:
        import numba
        import numpy
        info["numba"] = numba.__version__
        info["numpy"] = numpy.__version__
        info["numba_threads"] = numba.config.NUMBA_NUM_THREADS
    except ImportError:
        pass
    return info


def load() -> str:
    """The 1/5/15-minute load averages (the machine is shared: note them beside every figure)."""
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


def print_machine() -> dict:
    m = machine()
    print(f"# {m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['ram_gib']} GiB RAM · Python {m['python']} · "
          f"numba {m.get('numba')} ({m.get('numba_threads')} threads) · numpy {m.get('numpy')} · {load()}", flush=True)
    where = f" (imported from {m['corridor_from']}, not this checkout)" if m.get("corridor_from") else ""
    print(f"# corridor at {m.get('commit', '?')}{where}", flush=True)
    return m


def measured_env(items: list[str]) -> dict:
    """The NAME=VALUE pairs of `--env` as a dict for the measured processes, printed when there are any."""
    env = dict(e.split("=", 1) for e in items)
    if env:
        print(f"environment of the measured processes: {env}")
    return env


# --------------------------------------------------------------------------- fresh-process measurements

def measure_in_subprocess(argv: list[str], extra_env: dict | None = None) -> dict:
    """Run `python <argv>` as a fresh process whose last act is writing a JSON result to the path
    given in $BENCH_RESULT. Returns that JSON plus `process_wall_s` (start of the interpreter to its
    exit, as a user would time the command) and `peak_rss_mib` (the process's own ru_maxrss)."""
    fd, res = tempfile.mkstemp(prefix="bench-", suffix=".json")
    os.close(fd)
    env = {**os.environ, **(extra_env or {}), "BENCH_RESULT": res}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], env=env, cwd=ROOT)
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        raise
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark process {' '.join(argv)} exited with status {proc.returncode}")
        out = json.loads(Path(res).read_text())
    finally:
        Path(res).unlink(missing_ok=True)
    out["process_wall_s"] = wall
    out["peak_rss_mib"] = ru.ru_maxrss / 1024.0  # Linux: KiB
    return out


def time_command(cmd: list[str], extra_env: dict | None = None) -> dict:
    """Wall seconds and peak memory (ru_maxrss) of any command, run as a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(extra_env or {})}, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with status {proc.returncode}")
    return {"process_wall_s": wall, "peak_rss_mib": ru.ru_maxrss / 1024.0}


def write_result(obj: dict) -> None:
    """Called inside the measured process: hand the result back to `measure_in_subprocess`."""
    path = os.environ.get("BENCH_RESULT")
    text = json.dumps(obj, default=float)
    if path:
        Path(path).write_text(text)
    else:
        print(text)


# --------------------------------------------------------------------------- per-phase timing

def phase_table(info: dict) -> dict[str, float]:
    """Wall seconds of each part of the day loop, as the engine itself times them (`phase_seconds` in
    run.json and in `sim.info`): one entry per phase of `corridor.phases.PHASES` (its `step(day)`: the
    phase's Python and its Numba kernel(s), parallel ones by wall clock, which is what the day loop waits
    for), plus `levers` (today's lever row and rules) and `record` (each phase's `end_day` and the metric
    book). What the loop does outside these (building the run and the phases, `to_frame`) is the run's
    wall time minus their sum: "engine glue". The engine rounds each to the millisecond."""
    return {k: float(v) for k, v in (info.get("phase_seconds") or {}).items()}


# --------------------------------------------------------------------------- one scenario run (in the measured process)

def run_scenario(scenario: str = "us-mexico", seed: int = 1, scale: float = 1.0, overrides: dict | None = None,
                 save: bool = True) -> dict:
    """What `corridor run` does, minus the progress bar and report: load, run, write metrics.parquet
    and run.json to a temporary directory. Returns timings of each step and the run's info, and
    `phases` (phase name -> seconds, from the engine's own `phase_seconds`; see `phase_table`). The
    engine times its phases in every run, so `phases` costs nothing and is always there."""
    t_start = time.perf_counter()
    from corridor.engine import Simulation
    t_import = time.perf_counter() - t_start
    t0 = time.perf_counter()
    sim = Simulation.from_scenario(scenario, seed=seed, scale=scale, overrides=overrides or None)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run()
    t_run = time.perf_counter() - t0
    t_save = 0.0
    if save:
        with tempfile.TemporaryDirectory(prefix="corridor-bench-") as tmp:
            t0 = time.perf_counter()
            sim.save(Path(tmp) / "run")
            t_save = time.perf_counter() - t0
    info = {k: v for k, v in sim.info.items() if isinstance(v, (int, float, str))}
    out = {"import_s": t_import, "load_s": t_load, "run_s": t_run, "save_s": t_save,
           "in_process_s": time.perf_counter() - t_start, "info": info,
           "n_days": sim.world.n_days, "active_last_day": int(sim._pop.n) if hasattr(sim, "_pop") else None}
    out["phases"] = phase_table(sim.info)
    out["wall_seconds"] = float(sim.info.get("wall_seconds", t_run))
    return out


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_rate(agent_days: float, seconds: float) -> str:
    return f"{agent_days / seconds / 1e6:,.1f}" if seconds > 0 else "inf"
