"""Ensembles: many runs of a scenario on dask.distributed, written as they finish, and quantile bands.

    from corridor.ensemble import Ensemble
    ens = Ensemble("us-mexico", runs=20, scale=20, vary={"behaviour.crossing_hazard": (0.1, 0.2)})
    ens.run(out_dir="runs/ens")     # a LocalCluster on 127.0.0.1; or client=Client(...) / "tcp://host:8786"
    q = ens.quantiles()             # date, metric, q05, q25, q50, q75, q95

Determinism. Run k gets the seed `derive_seed(base, k)` and its varied parameters from `draw_unit(base, k,
path)`: pure functions of (scenario seed, run index, parameter path), so what a run computes never depends
on which worker runs it, in which order, or how many workers there are; the engine's counter-based random
numbers do the rest. Quantiles are taken over runs in index order.

Layout of DIR:
    runs/run=<k>/part.parquet   date, metric, value of run k (hive-partitioned: read DIR/runs as a dataset)
    runs/run=<k>/_run.json      its seed, parameters, identity, engine fingerprint, timings (wall, CPU) and
                                run info; written last, so its presence (with a matching identity) is what
                                marks run k finished. Both files are written to a temporary name and renamed:
                                a half-written file is never read. (The leading _ keeps dataset readers such
                                as pyarrow and pandas from taking it for data.)
    quantiles.parquet           date, metric, q05, q25, q50, q75, q95 over the runs
    run_totals.csv              per run: seed, parameters, totals of the main flows
    ensemble.json               settings, seeds, timings
An interrupted ensemble, run again with the same settings and DIR, executes only the missing runs. A DIR
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
import math
import os
import pickle
import socket
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import __version__
from .errors import InputError
from .results import engine_fingerprint

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Q_COLS = ("q05", "q25", "q50", "q75", "q95")
TOTAL_METRICS = ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                 "releases", "removals", "returns_to_mexico")
CONNECT_TIMEOUT_S = 5.0     # to reach a --scheduler
WORKER_WAIT_S = 60.0        # for a --scheduler with no worker yet to get one
SEED_BITS = 53              # derived seeds stay exact in JSON and in every language that reads _run.json

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------------------------------------- draws
def _hash_unit(*parts: Any) -> int:
    h = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little")


def derive_seed(base_seed: int, index: int) -> int:
    """Seed of run `index` of an ensemble whose scenario seed is `base_seed` (a hash; no generator state)."""
    return _hash_unit("corridor-run-seed", int(base_seed), int(index)) >> (64 - SEED_BITS)


def draw_unit(base_seed: int, index: int, name: str) -> float:
    """A uniform number in [0, 1) for (scenario seed, run index, parameter path): counter-based."""
    return (_hash_unit("corridor-run-param", int(base_seed), int(index), name) >> 11) * 2.0 ** -53


def draw_params(base_seed: int, index: int, vary: dict[str, tuple[float, float]],
                kinds: dict[str, str]) -> dict[str, float | int]:
    """Run `index`'s value of each varied parameter, uniform in [low, high] (integers for integer fields)."""
    out: dict[str, float | int] = {}
    for path in sorted(vary):
        lo, hi = vary[path]
        u = draw_unit(base_seed, index, path)
        if kinds.get(path) == "int":
            out[path] = int(min(math.floor(lo + u * (hi - lo + 1)), hi))
        else:
            out[path] = float(lo + u * (hi - lo))
    return out


# ---------------------------------------------------------------------------------------------- ranges
def parse_range(text: str, source: str = "--vary") -> tuple[str, float, float]:
    """`PATH=LOW:HIGH` → (path, low, high); InputError with an example when it is not that."""
    example = f"e.g. {source} behaviour.crossing_hazard=0.1:0.2"
    if "=" not in text:
        raise InputError(f"{source} {text!r}: expected PARAM=LOW:HIGH, {example}")
    path, rng = (s.strip() for s in text.split("=", 1))
    if not path:
        raise InputError(f"{source} {text!r}: the parameter path is empty; {example}")
    if rng.count(":") != 1:
        raise InputError(f"{source} {text!r}: expected LOW:HIGH after '=', {example}")
    lo_s, hi_s = (s.strip() for s in rng.split(":"))
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise InputError(f"{source} {text!r}: LOW and HIGH must be numbers, got {lo_s!r} and {hi_s!r}; {example}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"{source} {text!r}: LOW and HIGH must be finite numbers")
    if lo > hi:
        raise InputError(f"{source} {text!r}: LOW {lo:g} is above HIGH {hi:g}; write the range as LOW:HIGH")
    return path, lo, hi


def normalise_ranges(ranges: dict[str, tuple[float, float]] | Iterable[str] | None,
                     source: str = "--vary") -> dict[str, tuple[float, float]]:
    """A dict {path: (low, high)} or `PATH=LOW:HIGH` strings → checked {path: (low, high)}."""
    if not ranges:
        return {}
    out: dict[str, tuple[float, float]] = {}
    items = ranges.items() if isinstance(ranges, dict) else [(None, r) for r in ranges]
    for path, r in items:
        if path is None:
            path, lo, hi = parse_range(str(r), source)
        else:
            try:
                lo, hi = (float(x) for x in r)
            except (TypeError, ValueError):
                raise InputError(f"{source} {path}: expected a (low, high) pair of numbers, got {r!r}") from None
            path, lo, hi = parse_range(f"{path}={lo!r}:{hi!r}", source)
        if path in out:
            raise InputError(f"{source} {path}: given twice")
        out[path] = (lo, hi)
    return out


def check_ranges(raw: dict, ranges: dict[str, tuple[float, float]], source: str = "--vary") -> dict[str, str]:
    """Apply each range's ends to the scenario and validate: unknown paths and values the schema refuses
    fail here, with the path named. Returns {path: "int" | "float"} (the field's type)."""
    kinds = {}
    for path, (lo, hi) in ranges.items():
        values = []
        for v in (lo, hi):
            sc = scenario_from_raw(raw, {path: v}, source=source)
            values.append(_get_path(sc.model_dump(by_alias=True), path))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise InputError(f"{source} {path}: not a numeric field (it holds {values[0]!r}); vary numbers only")
        kinds[path] = "int" if all(isinstance(v, int) for v in values) else "float"
    return kinds


def _get_path(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            hit = [x for x in node if isinstance(x, dict) and (x.get("id") or x.get("name")) == part]
            node = hit[0] if hit else node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


# ---------------------------------------------------------------------------------------------- scenarios
def scenario_from_raw(raw: dict, overrides: dict | list | None = None, source: str = "--set"):
    """Validate a raw scenario mapping with overrides (as `scenario.load` does); InputError on a bad value."""
    from pydantic import ValidationError

    from .scenario import Scenario, format_validation, apply_overrides
    data = apply_overrides(raw, overrides, source=source) if overrides else raw
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        what = ", ".join(f"{k}={v!r}" for k, v in overrides.items()) if isinstance(overrides, dict) else ""
        raise InputError(f"{source}{' ' + what if what else ''}: "
                         f"{format_validation(raw.get('name', 'scenario'), e, data)}") from None


def prepare_scenario(scenario: str | Path, overrides: dict | list | None) -> tuple[dict, Any]:
    """The raw mapping of a scenario (extends merged, overrides applied) and its validated model."""
    from .scenario import apply_overrides, load, load_raw
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

    from .engine import Simulation
    from .results import write_json, write_metrics
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
class _Batch:
    """Shared by Ensemble and Sensitivity: scenario, specs with identities, resume, execution."""

    kind = "run"

    def __init__(self, scenario: str | Path, scale: float | None, seed: int | None, overrides: dict | list | None,
                 retries: int, runner: Callable[[RunSpec], dict] | None):
        self.scenario_arg = str(scenario)
        self.overrides = overrides
        self.raw, self.sc = prepare_scenario(scenario, overrides)
        if seed is not None:
            if int(seed) < 0:
                raise InputError(f"--seed {seed}: must be 0 or more")
        if scale is not None and not (float(scale) >= 1.0):
            raise InputError(f"--scale {scale}: must be 1 or more (people per agent)")
        self.base_seed = int(seed) if seed is not None else int(self.sc.seed)
        self.scale = float(scale) if scale is not None else None
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


# ---------------------------------------------------------------------------------------------- Ensemble
class Ensemble(_Batch):
    """`runs` runs of a scenario with derived seeds and, optionally, parameters drawn uniformly from ranges.

    scenario: bundled name or YAML path. vary: {dotted.path: (low, high)} or ["path=low:high", ...].
    seed: base seed (default: the scenario's). overrides: `--set` overrides for every run. retries: tries
    after a task raises. runner: advanced, a picklable replacement for `run_one` (tests inject faults).
    """

    kind = "ensemble"

    def __init__(self, scenario: str | Path = "us-mexico", runs: int = 10, scale: float | None = None,
                 vary: dict | Iterable[str] | None = None, seed: int | None = None,
                 overrides: dict | list | None = None, retries: int = 2,
                 runner: Callable[[RunSpec], dict] | None = None):
        if int(runs) < 1:
            raise InputError(f"--runs {runs}: an ensemble needs at least 1 run")
        self.runs = int(runs)
        self.vary = normalise_ranges(vary, "--vary")
        super().__init__(scenario, scale, seed, overrides, retries, runner)
        self.kinds = check_ranges(self.raw, self.vary, "--vary")
        self._quantiles: pd.DataFrame | None = None
        self._totals: pd.DataFrame | None = None

    def seeds(self) -> list[int]:
        return [derive_seed(self.base_seed, k) for k in range(self.runs)]

    def parameters(self) -> pd.DataFrame:
        """One row per run: run, seed, and each varied parameter's value."""
        rows = [{"run": k, "seed": derive_seed(self.base_seed, k),
                 **draw_params(self.base_seed, k, self.vary, self.kinds)} for k in range(self.runs)]
        return pd.DataFrame(rows)

    def specs(self, out_dir: str | Path) -> list[RunSpec]:
        out = Path(out_dir)
        return [self._spec(out, k, derive_seed(self.base_seed, k), draw_params(self.base_seed, k, self.vary, self.kinds))
                for k in range(self.runs)]

    def run(self, client: Any = None, out_dir: str | Path | None = None, workers: int | None = None,
            progress: Callable[[int, int, int], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> "Ensemble":
        """Run the missing runs on dask (client: None → LocalCluster of `workers` processes; a Client; or a
        scheduler address, given `connect_timeout` seconds to answer), then write quantiles.parquet,
        run_totals.csv and ensemble.json. out_dir None → a new temporary directory (`self.out_dir`).
        `progress(done, total, failed)` after each run. Raises RunsFailed naming each run that failed."""
        out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="corridor-ensemble-"))
        out.mkdir(parents=True, exist_ok=True)
        specs = self.specs(out)
        self._quantiles = self._totals = None
        try:
            self._execute(specs, out, client, workers, progress, connect_timeout,
                          stale=("quantiles.parquet", "run_totals.csv"))
        finally:
            if self._dir_ok:
                self._write_manifest(out)
        from .results import atomic_write
        q = self.quantiles()
        table = _quantile_table(q)
        import pyarrow.parquet as pq
        atomic_write(out / "quantiles.parquet", lambda p: pq.write_table(table, p, compression="zstd"))
        tot = self.run_totals()
        atomic_write(out / "run_totals.csv", lambda p: p.write_text(tot.to_csv(index=False)))
        return self

    def part_paths(self) -> list[Path]:
        if self.out_dir is None:
            raise RuntimeError("run() the ensemble first")
        missing = [k for k in range(self.runs) if k not in self.results]
        if missing:
            raise RuntimeError(f"runs {missing[:10]} are not finished; run() the ensemble again")
        return [self.out_dir / "runs" / f"run={k}" / "part.parquet" for k in range(self.runs)]

    def quantiles(self) -> pd.DataFrame:
        """date, metric, q05, q25, q50, q75, q95 over the runs (linear interpolation, runs in index order)."""
        if self._quantiles is None:
            self._quantiles, self._totals = compute_quantiles(self.part_paths())
        return self._quantiles

    def run_totals(self) -> pd.DataFrame:
        """One row per run: run, seed, varied parameters, and each main flow's total over the recorded days."""
        self.quantiles()
        return self.parameters().merge(self._totals, on="run")

    def _write_manifest(self, out: Path) -> None:
        from .results import write_json
        write_json(out / "ensemble.json", {
            "scenario": self.sc.name, "scenario_arg": self.scenario_arg, "runs": self.runs, "scale": self.scale,
            "base_seed": self.base_seed, "vary": {k: list(v) for k, v in self.vary.items()},
            "overrides": self.overrides, "version": __version__, "engine": engine_fingerprint(), "seeds": self.seeds(),
            "executed": self.executed, "skipped": self.skipped, "failures": self.failures,
            "wall_seconds": self.wall_seconds,
        })

    def write_report(self, out_dir: str | Path | None = None, observed: pd.DataFrame | None = None) -> Path:
        """A fan-chart report (report.html, figures/) of the median run with its bands and the observed series."""
        from .analysis.observed import load_observed
        from .report import WorldTables, write_report
        out = Path(out_dir) if out_dir is not None else self.out_dir
        q = self.quantiles()
        median = q[["date", "metric"]].assign(value=q["q50"].to_numpy())
        name = self.sc.name
        note = (f"Ensemble of {self.runs} runs (seeds derived from {self.base_seed}"
                + (f"; varied: {', '.join(f'{k} in [{lo:g}, {hi:g}]' for k, (lo, hi) in self.vary.items())}" if self.vary else "")
                + "). Lines are the daily medians; bands the 5-95% and 25-75% quantiles over runs.")
        return write_report(out, {name: median}, WorldTables.from_scenario(self.sc),
                            observed=observed if observed is not None else load_observed(),
                            title=f"corridor ensemble: {name}", notes={name: note}, bands={name: q}, baseline=name)


def compute_quantiles(paths: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quantiles per (date, metric) over the runs' part.parquet files, and per-run totals of the main flows."""
    import pyarrow.parquet as pq
    first = pq.read_table(paths[0])
    n = first.num_rows
    values = np.empty((len(paths), n), dtype=np.float64)
    values[0] = first.column("value").to_numpy()
    keys = first.select(["date", "metric"])
    for i, p in enumerate(paths[1:], start=1):
        t = pq.read_table(p)
        if t.num_rows != n or not t.select(["date", "metric"]).equals(keys):
            raise ValueError(f"{p} does not have the same dates and metrics as {paths[0]}; the runs differ in shape")
        values[i] = t.column("value").to_numpy()
    qs = np.quantile(values, QUANTILES, axis=0, method="linear")
    df = keys.to_pandas()
    df["metric"] = df["metric"].astype("string")
    for name, row in zip(Q_COLS, qs):
        df[name] = row
    metric = df["metric"].to_numpy(dtype=object)
    totals = {"run": np.arange(len(paths))}
    for m in TOTAL_METRICS:
        mask = metric == m
        if mask.any():
            totals[m] = values[:, mask].sum(axis=1)
    return df, pd.DataFrame(totals)


def _quantile_table(q: pd.DataFrame):
    import pyarrow as pa
    schema = pa.schema([("date", pa.date32()), ("metric", pa.string())] + [(c, pa.float64()) for c in Q_COLS])
    return pa.Table.from_pandas(q[["date", "metric", *Q_COLS]], schema=schema, preserve_index=False)


def read_quantiles(out_dir: str | Path) -> pd.DataFrame:
    """DIR/quantiles.parquet of a finished ensemble."""
    return pd.read_parquet(Path(out_dir) / "quantiles.parquet")
