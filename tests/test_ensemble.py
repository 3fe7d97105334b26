"""Ensembles and sensitivity on dask: same numbers on 1 worker, 2 workers or a separately started
scheduler + worker; resume skips finished runs and never reads a partial file; failures are retried or named.

Everything listens on 127.0.0.1. The mini scenario, cut to 75 days, keeps each run near a second.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.engine import Simulation
from corridor.batch.ensemble import Ensemble, derive_seed, draw_params, read_quantiles
from corridor.batch.ranges import parse_range
from corridor.batch.runs import RunsFailed, dask_client, run_one
from corridor.batch.sensitivity import Sensitivity
from corridor.errors import InputError

MINI = Path(__file__).parent / "data" / "mini.yaml"
OVR = {"end": "2023-02-15"}
VARY = {"behaviour.crossing_hazard": (0.1, 0.2), "policies.push_delay_days": (60, 120)}
RUNS = 4
DASK = Path(sys.executable).parent / "dask"


def make(**kw) -> Ensemble:
    return Ensemble(MINI, runs=kw.pop("runs", RUNS), vary=kw.pop("vary", VARY), overrides=kw.pop("overrides", OVR), **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client2():
    """A LocalCluster of 2 single-threaded worker processes, shared by the tests of this file."""
    with dask_client(None, workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def reference(client2, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    ens = make().run(client=client2, out_dir=out)
    return ens, out


@pytest.fixture(scope="module")
def external_scheduler(tmp_path_factory):
    """`dask scheduler` and `dask worker` started as separate processes on 127.0.0.1, torn down after."""
    tmp = tmp_path_factory.mktemp("external")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    logs = [open(tmp / "scheduler.log", "w"), open(tmp / "worker.log", "w")]
    loopback = ["--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    procs = [subprocess.Popen([str(DASK), "scheduler", "--port", str(port), *loopback],
                              stdout=logs[0], stderr=subprocess.STDOUT, env=env, cwd=tmp)]
    try:
        deadline = time.monotonic() + 30
        while True:  # the scheduler is up when its port accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError(f"dask scheduler did not start: {(tmp / 'scheduler.log').read_text()[-2000:]}")
                time.sleep(0.2)
        procs.append(subprocess.Popen([str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--local-directory", str(tmp / "worker"), *loopback],
                                      stdout=logs[1], stderr=subprocess.STDOUT, env=env, cwd=tmp))
        yield address
    finally:
        for p in reversed(procs):  # the worker first, so it does not wait for a scheduler that left
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in logs:
            f.close()


# ---------------------------------------------------------------------------------------------- draws
def test_seeds_and_parameters_depend_only_on_scenario_seed_and_run_index():
    kinds = {"behaviour.crossing_hazard": "float", "policies.push_delay_days": "int"}
    a = [draw_params(1, k, VARY, kinds) for k in range(50)]
    assert a == [draw_params(1, k, VARY, kinds) for k in reversed(range(50))][::-1]
    assert a[3] != draw_params(2, 3, VARY, kinds)
    assert all(0.1 <= p["behaviour.crossing_hazard"] <= 0.2 and 60 <= p["policies.push_delay_days"] <= 120 for p in a)
    assert all(isinstance(p["policies.push_delay_days"], int) for p in a)
    # adding a varied parameter does not move the others' draws
    more = draw_params(1, 3, {**VARY, "behaviour.give_up_hazard": (0.0, 0.01)}, kinds)
    assert {k: more[k] for k in VARY} == a[3]
    seeds = [derive_seed(1, k) for k in range(1000)]
    assert len(set(seeds)) == 1000 and seeds[:2] == [derive_seed(1, 0), derive_seed(1, 1)]


def test_a_worker_with_other_engine_code_refuses_to_run(tmp_path):
    spec = make().specs(tmp_path)[0]
    assert spec.code
    with pytest.raises(RuntimeError, match="install the same corridor"):
        run_one(dataclasses.replace(spec, code="0123456789abcdef"))
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------------------------------------- determinism
def test_same_quantiles_on_1_worker_2_workers_and_external_scheduler(reference, external_scheduler, tmp_path):
    ref, ref_dir = reference
    q = ref.quantiles()
    assert list(q.columns) == ["date", "metric", "q05", "q25", "q50", "q75", "q95"]
    assert (q["q05"] <= q["q50"]).all() and (q["q50"] <= q["q95"]).all()
    assert (q.loc[q["metric"] == "sw_encounters", "q95"] > q.loc[q["metric"] == "sw_encounters", "q05"]).any()
    pd.testing.assert_frame_equal(read_quantiles(ref_dir), q, check_exact=True, check_dtype=False)

    one = make().run(workers=1, out_dir=tmp_path / "one")
    ext = make().run(client=external_scheduler, out_dir=tmp_path / "ext")
    for other in (one, ext):
        pd.testing.assert_frame_equal(other.quantiles(), q, check_exact=True)
    local_pids = {r["pid"] for r in ref.results.values()}
    assert local_pids and not local_pids & {r["pid"] for r in ext.results.values()}  # ran on the external worker

    # run 0 of the ensemble is the plain run with its seed and parameters, in this process (2 numba threads)
    p0 = ref.parameters().iloc[0]
    params = {k: (int(p0[k]) if k == "policies.push_delay_days" else float(p0[k])) for k in VARY}
    sim = Simulation.from_scenario(MINI, seed=int(p0["seed"]), overrides={**OVR, **params}).run()
    part = pd.read_parquet(ref_dir / "runs" / "run=0" / "part.parquet")
    np.testing.assert_array_equal(part["value"].to_numpy(), sim.to_df()["value"].to_numpy())
    # hive-partitioned: the runs directory reads as one table with a run column
    ds = pd.read_parquet(ref_dir / "runs")
    assert sorted(ds["run"].astype(int).unique()) == list(range(RUNS))
    for f in ("quantiles.parquet", "run_totals.csv", "ensemble.json"):
        assert (ref_dir / f).is_file()
    assert not list(ref_dir.rglob("*.tmp"))


# ---------------------------------------------------------------------------------------------- resume
def test_resume_runs_only_missing_runs_and_ignores_partial_files(reference, client2, tmp_path):
    ref, ref_dir = reference
    out = tmp_path / "resume"
    for k in (0, 2):  # finished before the interruption
        shutil.copytree(ref_dir / "runs" / f"run={k}", out / "runs" / f"run={k}")
    stamp = (out / "runs" / "run=0" / "part.parquet").stat().st_mtime_ns
    (out / "runs" / "run=1").mkdir(parents=True)
    (out / "runs" / "run=1" / ".part.parquet.x1y2.tmp").write_bytes(b"half a parquet file")  # cut off mid-write
    (out / "runs" / "run=3").mkdir(parents=True)
    (out / "runs" / "run=3" / "part.parquet").write_bytes(b"not a finished run: no _run.json")
    ens = make().run(client=client2, out_dir=out)
    assert ens.executed == [1, 3] and ens.skipped == [0, 2]
    assert (out / "runs" / "run=0" / "part.parquet").stat().st_mtime_ns == stamp
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(ens.quantiles(), ref.quantiles(), check_exact=True)
    # everything finished: nothing runs, no cluster is needed
    again = make().run(client=f"tcp://127.0.0.1:{_free_port()}", out_dir=out)
    assert again.executed == [] and again.skipped == list(range(RUNS))
    # a directory made with other settings is refused, not mixed in
    before = {f: (out / f).read_bytes() for f in ("ensemble.json", "quantiles.parquet", "run_totals.csv")}
    with pytest.raises(InputError, match="other settings"):
        make(vary={"behaviour.crossing_hazard": (0.3, 0.4)}).run(client=client2, out_dir=out)
    assert before == {f: (out / f).read_bytes() for f in before}  # refused before touching anything


def test_cli_ensemble_writes_quantiles_report_and_summary(reference, tmp_path):
    ref, ref_dir = reference
    out = tmp_path / "cli"
    shutil.copytree(ref_dir / "runs", out / "runs")  # finished: no cluster starts; quantiles and report do
    args = ["ensemble", str(MINI), "--runs", "4", "--out", str(out), "--set", "end=2023-02-15", "--workers", "1",
            *[a for k, (lo, hi) in VARY.items() for a in ("--vary", f"{k}={lo}:{hi}")]]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "0 run(s) executed, 4 already finished" in r.output and "sw encounters" in r.output
    pd.testing.assert_frame_equal(read_quantiles(out), read_quantiles(ref_dir), check_exact=True)
    html = (out / "report.html").read_text()
    assert "ensemble" in html and "5–95%" in html


# ---------------------------------------------------------------------------------------------- failures
# Fault-injecting runners. LocalCluster workers are spawned with this process's sys.path, so they import
# this module by name (an external `dask worker` could not, and is not used with them).
def _die_once(spec):
    """Kill the worker process the first time run 1 starts (a crash, an OOM kill)."""
    marker = Path(spec.run_dir).parents[1] / f"died-{spec.index}"
    if spec.index == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return run_one(spec)


def _always_fails(spec):
    if spec.index == 2:
        raise ValueError("boom in run 2")
    return run_one(spec)


def test_a_worker_dying_mid_run_is_retried(reference, client2, tmp_path):
    ref, _ = reference
    ens = make(runner=_die_once).run(client=client2, out_dir=tmp_path / "die")
    assert (tmp_path / "die" / "died-1").exists()
    assert ens.results[1]["pid"] != int((tmp_path / "die" / "died-1").read_text())
    pd.testing.assert_frame_equal(ens.quantiles(), ref.quantiles(), check_exact=True)


def test_a_failing_run_is_reported_by_index(client2, tmp_path):
    out = tmp_path / "fail"
    with pytest.raises(RunsFailed) as e:
        make(runner=_always_fails, retries=1).run(client=client2, out_dir=out)
    assert e.value.failures.keys() == {2} and "ValueError: boom in run 2" in e.value.failures[2]
    assert "1 of 4 runs failed" in str(e.value) and "run 2" in str(e.value)
    assert {p.parent.name for p in (out / "runs").glob("*/_run.json")} == {"run=0", "run=1", "run=3"}
    assert not (out / "quantiles.parquet").exists()
    assert json.loads((out / "ensemble.json").read_text())["failures"] == {"2": e.value.failures[2]}


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("vary, expect", [
    (["behaviour.crossing_hazrd=0.1:0.2"], "unknown field 'crossing_hazrd'"),
    (["behaviour.crossing_hazard=0.3:0.1"], "LOW 0.3 is above HIGH 0.1"),
    (["behaviour.crossing_hazard=low:high"], "must be numbers"),
    (["behaviour.crossing_hazard=0.1"], "expected LOW:HIGH"),
    (["behaviour.crossing_hazard=0.5:1.5"], "less than or equal to 1"),
    (["nationalities.Narnia.departures.base_per_day=1:2"], "no item 'Narnia'"),
])
def test_bad_vary_is_one_clear_error(vary, expect, tmp_path):
    with pytest.raises(InputError, match=expect):
        Ensemble(MINI, runs=2, vary=vary, overrides=OVR)
    r = CliRunner().invoke(app, ["ensemble", str(MINI), "--runs", "2", "--out", str(tmp_path / "x"),
                                 *[a for v in vary for a in ("--vary", v)]])
    assert r.exit_code == 2, r.output
    assert expect in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_unreachable_scheduler_names_the_address(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    with pytest.raises(InputError, match=f"--scheduler {address}: cannot reach a dask scheduler"):
        Ensemble(MINI, runs=2, overrides=OVR).run(client=address, out_dir=tmp_path / "a", connect_timeout=1)
    r = CliRunner().invoke(app, ["ensemble", str(MINI), "--runs", "2", "--out", str(tmp_path / "b"),
                                 "--scheduler", address, "--set", "end=2023-02-15", "-q"])
    assert r.exit_code == 2 and address in r.output, r.output
    assert time.monotonic() - t0 < 30


# ---------------------------------------------------------------------------------------------- sensitivity
def test_sensitivity_on_mini_ranks_factors(client2, tmp_path):
    s = Sensitivity(MINI, params={"behaviour.crossing_hazard": (0.05, 0.3)},
                    levers=["policies.mexico_enforcement=0.5:2.0"], samples=2, overrides=OVR)
    assert s.n_runs == 2 * (2 + 1)
    s.run(client=client2, out_dir=tmp_path / "sens")
    t = s.table
    assert list(t.columns[:5]) == ["output", "rank", "factor", "kind", "low"]
    assert {"mu_star", "sigma"} <= set(t.columns)
    assert len(t) == 3 * 2 and set(t["rank"]) == {1, 2}
    for _, g in t.groupby("output"):
        assert g["mu_star"].is_monotonic_decreasing and set(g["kind"]) == {"parameter", "lever"}
    assert s.period_used == ("2023-01-01", "2023-02-15")  # Jan-Jun 2024 clipped to what the run covers
    csv = pd.read_csv(tmp_path / "sens" / "sensitivity.csv")
    assert len(csv) == 6 and (tmp_path / "sens" / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(tmp_path / "sens" / "samples.csv")) == s.n_runs
    from rich.console import Console
    con = Console(file=io.StringIO(), width=160)
    s.render(con)
    text = con.file.getvalue()
    assert "mu*" in text and "sigma" in text and "policies.mexico_enforcement" in text
    # the command line, on the finished analysis: nothing runs again, the table is printed
    r = CliRunner().invoke(app, ["sensitivity", str(MINI), "--params", "behaviour.crossing_hazard=0.05:0.3",
                                 "--levers", "policies.mexico_enforcement=0.5:2.0", "--samples", "2",
                                 "--set", "end=2023-02-15", "--out", str(tmp_path / "sens"), "--scheduler", "tcp://127.0.0.1:9"])
    assert r.exit_code == 0, r.output
    assert "morris: 2 factor(s), 6 runs" in r.output and "mu*" in r.output


def test_sensitivity_bad_input():
    with pytest.raises(InputError, match="no factors"):
        Sensitivity(MINI, overrides=OVR)
    with pytest.raises(InputError, match="unknown metric 'sw_encounter'"):
        Sensitivity(MINI, params=["behaviour.crossing_hazard=0.1:0.2"], outputs=["sw_encounter:sum"], overrides=OVR)
    with pytest.raises(InputError, match="--method 'fast'"):
        Sensitivity(MINI, params=["behaviour.crossing_hazard=0.1:0.2"], method="fast", overrides=OVR)
    assert parse_range("a.b=-1:2.5e-1") == ("a.b", -1.0, 0.25)
