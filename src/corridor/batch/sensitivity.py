"""Global sensitivity of chosen outputs to uncertain parameters and to levers (SALib), run on dask.

    from corridor.batch.sensitivity import Sensitivity
    s = Sensitivity("us-mexico", params={"behaviour.crossing_hazard": (0.1, 0.2)},
                    levers={"policies.mexico_enforcement": (0.5, 2.0)}, samples=10, scale=20)
    s.run(out_dir="runs/sens")      # same execution as Ensemble: LocalCluster, a Client or an address
    s.table                         # ranked: Morris mu*, sigma (screening) or Sobol S1, ST

Morris (default) costs samples x (factors + 1) runs; Sobol (Saltelli's scheme, first and total order)
samples x (factors + 2), and wants `samples` a power of 2. Every run uses the same seed (the scenario's,
or `seed`): the engine's counter-based random numbers then give common random numbers, so differences
between runs come from the factors, not from noise.

Outputs are `METRIC:STAT` with STAT one of sum, mean, max, min, last, evaluated over `period` (clipped to
the days a run records; the whole run if they do not overlap). Defaults: Jan-Jun 2024 southwest border
encounters (sum), peak US custody population (max), mean people stranded in Mexico (mean).

DIR gets runs/run=<k>/_run.json (each sample's factor values and outputs; an interrupted analysis resumes),
samples.csv (factors and outputs per run), sensitivity.csv (the ranked table) and sensitivity.png.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..phases import metric_names
from .ranges import check_ranges, normalise_ranges
from .runs import CONNECT_TIMEOUT_S, Batch

METHODS = ("morris", "sobol")
STATS = ("sum", "mean", "max", "min", "last")
DEFAULT_OUTPUTS = ("sw_encounters:sum", "us_custody_population:max", "stranded_mexico:mean")
DEFAULT_PERIOD = ("2024-01-01", "2024-06-30")
NUM_LEVELS = 4


@dataclass(frozen=True)
class Output:
    metric: str
    stat: str

    @property
    def label(self) -> str:
        return f"{self.metric} ({self.stat})"


def parse_output(text: str) -> Output:
    metric, _, stat = str(text).strip().rpartition(":")
    if not metric:
        metric, stat = stat, "sum"
    aliases = {"total": "sum", "peak": "max", "average": "mean"}
    stat = aliases.get(stat, stat)
    if stat not in STATS:
        raise InputError(f"--output {text!r}: unknown statistic {stat!r}; valid: {', '.join(STATS)} "
                         f"(e.g. --output us_custody_population:max)")
    return Output(metric, stat)


def parse_period(period: str | tuple | None) -> tuple[dt.date, dt.date]:
    if period is None:
        period = DEFAULT_PERIOD
    parts = period.split(":") if isinstance(period, str) else list(period)
    try:
        lo, hi = (p if isinstance(p, dt.date) else dt.date.fromisoformat(str(p).strip()) for p in parts)
    except ValueError:
        raise InputError(f"--period {period!r}: expected FROM:TO as YYYY-MM-DD:YYYY-MM-DD") from None
    if lo > hi:
        raise InputError(f"--period {period!r}: FROM is after TO")
    return lo, hi


def evaluate(df: pd.DataFrame, outputs: tuple[Output, ...], period: tuple[dt.date, dt.date]) -> dict:
    """The outputs of one run (tidy date, metric, value) over the period clipped to the run's days."""
    dates = pd.to_datetime(df["date"]).dt.date
    first, last = dates.min(), dates.max()
    lo, hi = max(period[0], first), min(period[1], last)
    if lo > hi:
        lo, hi = first, last
    inside = (dates >= lo) & (dates <= hi)
    values = {}
    for o in outputs:
        sel = df.loc[inside & (df["metric"] == o.metric)]
        if sel.empty:
            raise InputError(f"output metric {o.metric!r} is not recorded by this scenario")
        v = sel.sort_values("date")["value"].to_numpy(dtype=float)
        values[o.label] = float({"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                                 "last": lambda a: a[-1]}[o.stat](v))
    return {"outputs": values, "period": [str(lo), str(hi)]}


class Sensitivity(Batch):
    """Morris screening or Sobol indices of `outputs` to `params` (uncertain) and `levers` (policy).

    params, levers: {dotted.path: (low, high)} or ["path=low:high", ...] (low < high). samples: Morris
    trajectories or Sobol base sample N. Other arguments as for Ensemble.
    """

    kind = "sensitivity"

    def __init__(self, scenario: str | Path = "us-mexico", params: dict | Iterable[str] | None = None,
                 levers: dict | Iterable[str] | None = None, samples: int = 8, method: str = "morris",
                 outputs: Iterable[str] | None = None, period: str | tuple | None = None,
                 scale: float | None = None, seed: int | None = None, overrides: dict | list | None = None,
                 retries: int = 2, runner: Callable | None = None, num_levels: int = NUM_LEVELS):
        method = str(method).lower()
        if method not in METHODS:
            raise InputError(f"--method {method!r}: valid: {', '.join(METHODS)}")
        if int(samples) < 2:
            raise InputError(f"--samples {samples}: at least 2 are needed")
        self.method, self.samples, self.num_levels = method, int(samples), int(num_levels)
        p = normalise_ranges(params, "--params")
        lv = normalise_ranges(levers, "--levers")
        both = set(p) & set(lv)
        if both:
            raise InputError(f"{', '.join(sorted(both))}: given both as --params and --levers")
        self.factors = {**p, **lv}
        self.factor_kind = {**{k: "parameter" for k in p}, **{k: "lever" for k in lv}}
        if not self.factors:
            raise InputError("no factors: give at least one --params or --levers PATH=LOW:HIGH")
        for k, (lo, hi) in self.factors.items():
            if not lo < hi:
                raise InputError(f"{k}={lo:g}:{hi:g}: LOW must be below HIGH for a sensitivity factor")
        self.outputs = tuple(parse_output(o) for o in (outputs or DEFAULT_OUTPUTS))
        if len({o.label for o in self.outputs}) != len(self.outputs):
            raise InputError("--output: each output must be given once")
        self.period = parse_period(period)
        super().__init__(scenario, scale, seed, overrides, retries, runner)
        self.kinds = {**check_ranges(self.raw, p, "--params"), **check_ranges(self.raw, lv, "--levers")}
        self._check_outputs()
        self.names = list(self.factors)
        self.problem = {"num_vars": len(self.names), "names": self.names,
                        "bounds": [list(self.factors[n]) for n in self.names]}
        self.notes: list[str] = []
        self.X = self._sample()
        self.Y: np.ndarray | None = None
        self.table: pd.DataFrame | None = None
        self.period_used: tuple[str, str] | None = None

    def _check_outputs(self) -> None:
        names = set(metric_names(self.sc))   # the metrics a run of this scenario records, without running it
        for o in self.outputs:
            if o.metric not in names:
                close = difflib.get_close_matches(o.metric, sorted(names), n=3)
                plain = sorted(n for n in names if ":" not in n)
                raise InputError(f"--output {o.metric}:{o.stat}: unknown metric {o.metric!r}; "
                                 + (f"did you mean {', '.join(close)}? " if close else "")
                                 + f"valid: {', '.join(plain)}, or METRIC:DETAIL such as sw_encounters:<nationality>")

    @property
    def _salib_seed(self) -> int:
        """SALib seeds numpy, which takes seeds below 2**32 (a run's seed may be up to 2**63)."""
        return self.base_seed % 2 ** 32

    def _sample(self) -> np.ndarray:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if self.method == "morris":
                from SALib.sample import morris
                X = morris.sample(self.problem, self.samples, num_levels=self.num_levels, seed=self._salib_seed)
            else:
                from SALib.sample import sobol
                X = sobol.sample(self.problem, self.samples, calc_second_order=False, scramble=True,
                                 seed=self._salib_seed)
        self.notes.extend(str(w.message).strip() for w in caught)
        return X

    @property
    def n_runs(self) -> int:
        return int(self.X.shape[0])

    def sample_params(self, i: int) -> dict:
        return {n: (int(round(self.X[i, j])) if self.kinds.get(n) == "int" else float(self.X[i, j]))
                for j, n in enumerate(self.names)}

    def run(self, client: Any = None, out_dir: str | Path | None = None, workers: int | None = None,
            progress: Callable[[int, int, int], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT_S) -> "Sensitivity":
        """Run the samples on dask (as Ensemble.run), analyse, and write the table, samples and chart."""
        out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="corridor-sensitivity-"))
        out.mkdir(parents=True, exist_ok=True)
        summarise = functools.partial(evaluate, outputs=self.outputs, period=self.period)
        extra = {"outputs": [o.label for o in self.outputs], "period": [str(d) for d in self.period]}
        specs = [self._spec(out, i, self.base_seed, self.sample_params(i), write_metrics=False,
                            summarise=summarise, extra=extra) for i in range(self.n_runs)]
        self._execute(specs, out, client, workers, progress, connect_timeout,
                      stale=("sensitivity.csv", "samples.csv", "sensitivity.png"))
        labels = [o.label for o in self.outputs]
        self.Y = np.array([[self.results[i]["outputs"][l] for l in labels] for i in range(self.n_runs)])
        self.period_used = tuple(self.results[0]["period"])
        self.table = self.analyse()
        self.write(out)
        return self

    def analyse(self) -> pd.DataFrame:
        """The ranked table: per output, factors by mu* (Morris) or ST (Sobol), largest first."""
        rows = []
        for j, o in enumerate(self.outputs):
            y = self.Y[:, j]
            with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
                warnings.simplefilter("always")
                if self.method == "morris":
                    from SALib.analyze import morris
                    r = morris.analyze(self.problem, self.X, y, num_levels=self.num_levels, seed=self._salib_seed)
                    cols = {"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"], "sigma": r["sigma"],
                            "mu": r["mu"]}
                else:
                    from SALib.analyze import sobol
                    r = sobol.analyze(self.problem, y, calc_second_order=False, seed=self._salib_seed)
                    cols = {"ST": r["ST"], "ST_conf": r["ST_conf"], "S1": r["S1"], "S1_conf": r["S1_conf"]}
            if np.ptp(y) == 0:
                self.notes.append(f"{o.label} is the same in every run: no factor moves it")
            for i, n in enumerate(self.names):
                rows.append({"output": o.label, "factor": n, "kind": self.factor_kind[n],
                             "low": self.factors[n][0], "high": self.factors[n][1],
                             **{k: float(np.asarray(v)[i]) for k, v in cols.items()}})
        t = pd.DataFrame(rows)
        key = "mu_star" if self.method == "morris" else "ST"
        t = t.sort_values(["output", key], ascending=[True, False], na_position="last", kind="mergesort")
        order = {o.label: i for i, o in enumerate(self.outputs)}
        t = t.sort_values("output", key=lambda s: s.map(order), kind="mergesort").reset_index(drop=True)
        t.insert(1, "rank", t.groupby("output", sort=False).cumcount() + 1)
        return t

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """sensitivity.csv (ranked table), samples.csv (factors and outputs per run), sensitivity.png."""
        from ..results import atomic_write
        out = Path(out_dir)
        paths = {"table": out / "sensitivity.csv", "samples": out / "samples.csv", "chart": out / "sensitivity.png"}
        table = self.table
        atomic_write(paths["table"], lambda p: p.write_text(table.to_csv(index=False)))
        samples = pd.DataFrame({"run": range(self.n_runs)})
        for i, n in enumerate(self.names):
            samples[n] = [self.sample_params(k)[n] for k in range(self.n_runs)]
        for j, o in enumerate(self.outputs):
            samples[o.label] = self.Y[:, j]
        atomic_write(paths["samples"], lambda p: p.write_text(samples.to_csv(index=False)))
        png = self.chart_png()
        atomic_write(paths["chart"], lambda p: p.write_bytes(png))
        return paths

    def chart_png(self) -> bytes:
        """One panel per output: horizontal bars per factor (Morris mu* with its confidence and sigma;
        Sobol ST and S1). Figure object API and the Agg canvas; no pyplot state."""
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        t = self.table
        n_out, n_f = len(self.outputs), len(self.names)
        fig = Figure(figsize=(7.5, 0.9 + n_out * (0.55 + 0.32 * n_f)), dpi=100)
        FigureCanvasAgg(fig)
        axes = fig.subplots(n_out, 1, squeeze=False)[:, 0]
        colours = {"parameter": "#1f77b4", "lever": "#d62728"}
        for ax, o in zip(axes, self.outputs):
            sub = t[t["output"] == o.label].iloc[::-1]
            y = np.arange(len(sub))
            c = [colours[k] for k in sub["kind"]]
            if self.method == "morris":
                ax.barh(y, sub["mu_star"], xerr=sub["mu_star_conf"], color=c, alpha=0.85, error_kw={"lw": 0.8})
                ax.plot(sub["sigma"], y, "k|", ms=12, label="sigma")
                ax.set_xlabel("mu*: mean |elementary effect| (output units per factor range); | = sigma")
            else:
                from matplotlib.patches import Patch
                ax.barh(y + 0.2, sub["ST"], height=0.4, xerr=sub["ST_conf"], color=c, alpha=0.85,
                        error_kw={"lw": 0.8})
                ax.barh(y - 0.2, sub["S1"], height=0.4, color=c, alpha=0.35)
                ax.set_xlabel("Sobol index (share of output variance)")
                ax.legend(handles=[Patch(color="0.35", label="ST (total)"), Patch(color="0.75", label="S1 (first order)")],
                          loc="lower right", fontsize=8, frameon=False)
            ax.set_yticks(y, [f"{f} ({k})" for f, k in zip(sub["factor"], sub["kind"])], fontsize=8)
            ax.set_title(o.label, fontsize=10, loc="left")
            ax.spines[["top", "right"]].set_visible(False)
        per = f"{self.period_used[0]}..{self.period_used[1]}" if self.period_used else ""
        fig.suptitle(f"{self.sc.name}: {self.method} sensitivity, {self.n_runs} runs, {per} "
                     f"(blue: parameters, red: levers)", fontsize=10)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def render(self, console) -> None:
        """Print the ranked table with rich."""
        from rich.table import Table
        t = self.table
        cols = ["mu_star", "mu_star_conf", "sigma", "mu"] if self.method == "morris" else ["ST", "ST_conf", "S1", "S1_conf"]
        heads = {"mu_star": "mu*", "mu_star_conf": "mu* conf", "ST_conf": "ST conf", "S1_conf": "S1 conf"}
        per = f" over {self.period_used[0]}..{self.period_used[1]}" if self.period_used else ""
        for o in self.outputs:
            tab = Table(title=f"{o.label}{per}: {self.method}, {self.n_runs} runs", title_justify="left")
            tab.add_column("rank", justify="right")
            tab.add_column("factor", overflow="fold")
            tab.add_column("kind")
            tab.add_column("range", justify="right")
            for c in cols:
                tab.add_column(heads.get(c, c), justify="right")
            for _, r in t[t["output"] == o.label].iterrows():
                tab.add_row(str(r["rank"]), r["factor"], r["kind"], f"{r['low']:g}..{r['high']:g}",
                            *[_fmt(r[c], self.method) for c in cols])
            console.print(tab)
        for n in dict.fromkeys(self.notes):
            console.print(f"note: {n}", highlight=False, soft_wrap=True)


def _fmt(v: float, method: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3f}" if method == "sobol" else f"{v:,.4g}"
