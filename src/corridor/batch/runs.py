"""Running batches of simulations on dask: one run's task, the client, execution with retries, resumable folders.

Ensembles and sensitivity analyses are both a list of runs of one scenario, each with its own seed and
parameter values; this module runs such a list and knows nothing of what the runs are for.

Layout of a batch's DIR:
    runs/run=<k>/part.parquet   date, metric, value of run k (hive-partitioned: read DIR/runs as a dataset)
    runs/run=<k>/_run.json      its seed, parameters, identity, engine fingerprint, timings (wall, CPU) and
                                run info; written last, so its presence (with a matching identity) is what
                                marks run k finished. Both files are written to a temporary name and renamed:
                                a half-written file is never read. (The leading _ keeps dataset readers such
                                as pyarrow and pandas from taking it for data.)
An interrupted batch, run again with the same settings and DIR, executes only the missing runs. A DIR
made with other settings, or by other engine code, is refused (its runs would be mixed with the new ones).

Clusters. Everything a run needs travels in its task (the scenario as compressed YAML data), so workers
need corridor installed (the same engine: a worker with other engine code refuses), not the scenario files.
Each worker should run one task per process thread (`dask worker --nthreads 1`; NUMBA_NUM_THREADS=1 is set
in LocalCluster workers and numba is limited to one thread inside each run anyway). For a scheduler on
this machine, keep it on loopback: `dask scheduler --host 127.0.0.1 --dashboard-address 127.0.0.1:0`.

Workers write their run's files themselves and return a small summary; with a cluster whose workers do not
share this machine's disk, give an `out_dir` on a shared filesystem.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import socket
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .. import __version__
from ..errors import InputError
from ..results import engine_fingerprint

CONNECT_TIMEOUT_S = 5.0     # to reach a --scheduler
WORKER_WAIT_S = 60.0        # for a --scheduler with no worker yet to get one


class RunsFailed(RuntimeError):
    """Some runs failed on every try. `failures` maps run index to the error; finished runs are kept."""

    def __init__(self, failures: dict[int, str], total: int, out_dir: Path):
        self.failures = dict(sorted(failures.items()))
        self.total = total
        self.out_dir = out_dir
        shown = "; ".join(f"run {k}: {msg}" for k, msg in list(self.failures.items())[:5])
        more = f"; and {len(self.failures) - 5} more" if len(self.failures) > 5 else ""
        super().__init__(f"{len(self.failures)} of {total} runs failed ({shown}{more}); finished runs are kept in "
                         f"{out_dir}/runs, and running the same command again retries only the missing ones")


# ---------------------------------------------------------------------------------------------- scenarios
def scenario_from_raw(raw: dict, overrides: dict | list | None = None, source: str = "--set"):
    """Validate a raw scenario mapping with overrides (as `scenario.load` does); InputError on a bad value."""
    from pydantic import ValidationError

    from ..scenario import Scenario, format_validation, apply_overrides
    data = apply_overrides(raw, overrides, source=source) if overrides else raw
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        what = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) if isinstance(overrides, dict) else ""
        raise InputError(f"{source}{' ' + what if what else ''}: "
                         f"{format_validation(raw.get('name', 'scenario'), e, data)}") from None


def prepare_scenario(scenario: str | Path, overrides: dict | list | None) -> tuple[dict, Any]:
    """The raw mapping of a scenario (extends merged, overrides applied) and its validated model."""
    from ..scenario import apply_overrides, load, load_raw
    sc = load(scenario, overrides)         # the clear errors of `corridor run`, naming the file
    raw, _ = load_raw(scenario)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return raw, sc


# ---------------------------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; small and picklable (the scenario travels compressed)."""

    index: int
    seed: int
    params: dict
    scenario_blob: bytes
    scale: float | None
    run_dir: str
    identity: str
    write_metrics: bool = True
    summarise: Callable[[pd.DataFrame], dict] | None = None
    version: str = __version__
    code: str = ""

    def scenario(self):
        return scenario_from_raw(pickle.loads(zlib.decompress(self.scenario_blob)), self.params, source="parameters")


def run_one(spec: RunSpec) -> dict:
    """Run one simulation on a worker; write part.parquet then _run.json atomically; return a small summary."""
    if spec.version != __version__ or (spec.code and spec.code != engine_fingerprint()):
        raise RuntimeError(f"worker {socket.gethostname()} runs corridor {__version__} (engine {engine_fingerprint()}), "
                           f"the ensemble needs {spec.version} (engine {spec.code}); install the same corridor there")
    import numba

    from ..engine import Simulation
    from ..results import write_json, write_metrics
    numba.set_num_threads(1)  # one run per worker thread; parallelism comes from the ensemble
    started, t0, c0 = time.time(), time.perf_counter(), time.process_time()
    sim = Simulation(spec.scenario(), seed=spec.seed, scale=spec.scale).run()
    df = sim.to_df()
    run_dir = Path(spec.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "_run.json").unlink(missing_ok=True)
    summary = {
        "index": spec.index, "seed": spec.seed, "params": spec.params, "identity": spec.identity, "engine": spec.code,
        "host": socket.gethostname(), "pid": os.getpid(), "started": round(started, 3),
        "wall_seconds": round(time.perf_counter() - t0, 3), "cpu_seconds": round(time.process_time() - c0, 3),
        "info": sim.info,
    }
    if spec.summarise is not None:
        summary.update(spec.summarise(df))
    if spec.write_metrics:
        write_metrics(run_dir / "part.parquet", df)
    write_json(run_dir / "_run.json", summary)
    return summary


def read_finished(run_dir: Path, identity: str, need_metrics: bool) -> dict | None:
    """The summary of a finished run in `run_dir`, or None if it is not finished. A run made with other
    settings raises InputError: mixing it in would be wrong, and overwriting it would lose it."""
    meta = run_dir / "_run.json"
    if not meta.is_file() or (need_metrics and not (run_dir / "part.parquet").is_file()):
        return None
    try:
        summary = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if summary.get("identity") != identity:
        raise InputError(f"{run_dir} was made with other settings (scenario, --set, --vary, --scale, seed) or another "
                         f"version of the engine; give another --out, or delete {run_dir.parent} to start over")
    return summary


# ---------------------------------------------------------------------------------------------- dask
@contextlib.contextmanager
def dask_client(client: Any = None, workers: int | None = None, connect_timeout: float = CONNECT_TIMEOUT_S,
                worker_wait: float = WORKER_WAIT_S):
    """Yield a dask Client: the one given; one connected to an address (str); or a LocalCluster of
    `workers` single-threaded processes listening on 127.0.0.1 only, closed on exit."""
    from distributed import Client, LocalCluster
    if client is not None and not isinstance(client, str):
        yield client
        return
    if isinstance(client, str):
        address = client.strip()
        try:
            c = Client(address, timeout=connect_timeout)
        except Exception as e:  # OSError, TimeoutError, ValueError for a malformed address
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise InputError(f"--scheduler {address}: cannot reach a dask scheduler there within {connect_timeout:g} s "
                             f"({first}); start one with `dask scheduler` or check the address (tcp://HOST:PORT)") from None
        try:
            if not c.scheduler_info().get("workers"):
                try:
                    c.wait_for_workers(1, timeout=worker_wait)
                except Exception:
                    raise InputError(f"--scheduler {address}: the scheduler has no workers after {worker_wait:g} s; "
                                     f"start some with `dask worker {address}`") from None
            yield c
        finally:
            c.close()
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, worker_dashboard_address=None, scheduler_port=0,
                           # the scheduler always serves /health over HTTP: a free port on loopback, no dashboard
                           scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                           silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})
    try:
        c = Client(cluster)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


def execute(specs: list[RunSpec], client: Any = None, workers: int | None = None, retries: int = 2,
            runner: Callable[[RunSpec], dict] | None = None,
            progress: Callable[[int, int, int], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> tuple[dict[int, dict], dict[int, str]]:
    """Run each spec on dask; return ({index: summary}, {index: error}). A task that raises is retried
    `retries` times; one whose worker dies is rescheduled by dask (up to distributed.scheduler.allowed-failures
    deaths) and then reported as failed. `progress(done, total, failed)` after each run."""
    from distributed import as_completed
    results: dict[int, dict] = {}
    failures: dict[int, str] = {}
    if not specs:
        return results, failures
    runner = runner or run_one
    total = len(specs)
    with dask_client(client, workers or min(len(specs), os.cpu_count() or 1), connect_timeout) as c:
        futures = {}
        for s in specs:
            f = c.submit(runner, s, key=f"corridor-run-{s.index}-{s.identity[:12]}", pure=False, retries=retries)
            futures[f] = s.index
        try:
            for f in as_completed(list(futures)):
                k = futures[f]
                if f.status == "finished":
                    results[k] = f.result()
                else:
                    try:
                        exc = f.exception()
                    except BaseException as e:  # cancelled: the scheduler lost it
                        exc = e
                    failures[k] = f"{type(exc).__name__}: {_first_line(exc)}"
                if progress is not None:
                    progress(len(results) + len(failures), total, len(failures))
        finally:
            for f in futures:
                if not f.done():
                    f.cancel()
    return results, failures


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else repr(e)


# ---------------------------------------------------------------------------------------------- batches
class Batch:
    """Shared by Ensemble and Sensitivity: scenario, specs with identities, resume, execution."""

    kind = "run"

    def __init__(self, scenario: str | Path, scale: float | None, seed: int | None, overrides: dict | list | None,
                 retries: int, runner: Callable[[RunSpec], dict] | None):
        self.scenario_arg = str(scenario)
        self.overrides = overrides
        self.raw, self.sc = prepare_scenario(scenario, overrides)
        from ..scenario import check_scale, check_seed
        self.base_seed = check_seed(seed, "--seed") if seed is not None else int(self.sc.seed)
        self.scale = check_scale(self.sc, scale, "--scale") if scale is not None else None
        self.retries = int(retries)
        self.runner = runner
        self._blob = zlib.compress(pickle.dumps(self.raw, protocol=pickle.HIGHEST_PROTOCOL), 6)
        self._raw_hash = hashlib.sha256(self._blob).hexdigest()
        self.out_dir: Path | None = None
        self.results: dict[int, dict] = {}
        self.failures: dict[int, str] = {}
        self.executed: list[int] = []
        self.skipped: list[int] = []
        self.wall_seconds = 0.0
        self._dir_ok = False

    def _identity(self, seed: int, params: dict, extra: Any = None) -> str:
        blob = json.dumps({"raw": self._raw_hash, "seed": seed, "params": sorted(params.items()),
                           "scale": self.scale, "version": __version__, "code": engine_fingerprint(), "extra": extra},
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _spec(self, out: Path, index: int, seed: int, params: dict, write_metrics: bool = True,
              summarise=None, extra: Any = None) -> RunSpec:
        return RunSpec(index=index, seed=seed, params=params, scenario_blob=self._blob, scale=self.scale,
                       run_dir=str(out / "runs" / f"run={index}"), identity=self._identity(seed, params, extra),
                       write_metrics=write_metrics, summarise=summarise, code=engine_fingerprint())

    def _execute(self, specs: list[RunSpec], out: Path, client, workers, progress,
                 connect_timeout: float = CONNECT_TIMEOUT_S, stale: tuple[str, ...] = ()) -> None:
        """Skip finished runs, run the others, raise RunsFailed if any failed on every try. `stale`: summary
        files in `out` removed once DIR is known to hold this batch (so a failed batch leaves none behind)."""
        t0 = time.perf_counter()
        self.out_dir = out
        self._dir_ok = False
        todo, self.results = [], {}
        for s in specs:
            done = read_finished(Path(s.run_dir), s.identity, s.write_metrics)
            if done is not None:
                self.results[s.index] = done
            else:
                todo.append(s)
        self.skipped = sorted(self.results)
        self.executed = sorted(s.index for s in todo)
        self._dir_ok = True  # DIR holds this batch (or nothing yet): its summary files may be replaced
        for name in stale:
            (out / name).unlink(missing_ok=True)
        for s in todo:  # temporary files of writes that were cut off: never results, now litter
            for tmp in Path(s.run_dir).glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        if progress is not None:
            progress(len(self.results), len(specs), 0)
        base = len(self.results)
        new, self.failures = execute(
            todo, client, workers, self.retries, self.runner,
            (lambda d, t, f: progress(base + d, len(specs), f)) if progress is not None else None, connect_timeout)
        by_index = {s.index: s for s in specs}
        for k, summary in new.items():
            if not (Path(by_index[k].run_dir) / "_run.json").is_file():
                self.failures[k] = (f"the worker finished but {by_index[k].run_dir} is not on this machine's "
                                    f"disk; give an out_dir on a filesystem the workers share")
            else:
                self.results[k] = summary
        self.wall_seconds = round(time.perf_counter() - t0, 3)
        if self.failures:
            raise RunsFailed(self.failures, len(specs), out)
