"""Ensembles: many runs of a scenario on dask.distributed, written as they finish, and quantile bands.

    from corridor.batch.ensemble import Ensemble
    ens = Ensemble("us-mexico", runs=20, scale=20, vary={"behaviour.crossing_hazard": (0.1, 0.2)})
    ens.run(out_dir="runs/ens")     # a LocalCluster on 127.0.0.1; or client=Client(...) / "tcp://host:8786"
    q = ens.quantiles()             # date, metric, q05, q25, q50, q75, q95

Determinism. Run k gets the seed `derive_seed(base, k)` and its varied parameters from `draw_unit(base, k,
path)`: pure functions of (scenario seed, run index, parameter path), so what a run computes never depends
on which worker runs it, in which order, or how many workers there are; the engine's counter-based random
numbers do the rest. Quantiles are taken over runs in index order.

DIR holds the runs (runs/run=<k>/, see `corridor.batch.runs`) and
    quantiles.parquet           date, metric, q05, q25, q50, q75, q95 over the runs
    run_totals.csv              per run: seed, parameters, totals of the main flows
    ensemble.json               settings, seeds, timings
"""
from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import InputError
from ..results import engine_fingerprint
from .ranges import check_ranges, normalise_ranges
from .runs import CONNECT_TIMEOUT_S, Batch, RunSpec

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Q_COLS = ("q05", "q25", "q50", "q75", "q95")
TOTAL_METRICS = ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                 "releases", "removals", "returns_to_mexico")
SEED_BITS = 53              # derived seeds stay exact in JSON and in every language that reads _run.json


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


# ---------------------------------------------------------------------------------------------- Ensemble
class Ensemble(Batch):
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
        from ..results import atomic_write
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
        from ..results import write_json
        write_json(out / "ensemble.json", {
            "scenario": self.sc.name, "scenario_arg": self.scenario_arg, "runs": self.runs, "scale": self.scale,
            "base_seed": self.base_seed, "vary": {k: list(v) for k, v in self.vary.items()},
            "overrides": self.overrides, "version": __version__, "engine": engine_fingerprint(), "seeds": self.seeds(),
            "executed": self.executed, "skipped": self.skipped, "failures": self.failures,
            "wall_seconds": self.wall_seconds,
        })

    def write_report(self, out_dir: str | Path | None = None, observed: pd.DataFrame | None = None) -> Path:
        """A fan-chart report (report.html, figures/) of the median run with its bands and the observed series."""
        from ..analysis.observed import load_observed
        from ..report import WorldTables, write_report
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
