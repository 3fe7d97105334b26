"""Command line: corridor run | validate | compare | calibrate | ensemble | sensitivity | scenarios | schema.

Every user error exits with status 2 and one line naming the file, field, value and what is valid.
"""
from __future__ import annotations

import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import List, Optional

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import ConservationError, InputError
from .fingerprint import compile_note

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="corridor: an agent-based simulator of the migration corridor to the US southwest border.")
console = Console()
err_console = Console(stderr=True)

DEBUG = {"on": False}   # `corridor --debug ...`: tracebacks instead of one line


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", envvar="CORRIDOR_DEBUG",
                                        help="show the traceback of an error (default: one line)")):
    """corridor: an agent-based simulator of the migration corridor to the US southwest border."""
    DEBUG["on"] = debug


def _say_error(label: str, e: BaseException) -> None:
    """One line on stderr, whatever the message holds (newlines, rich markup)."""
    from rich.markup import escape
    text = " ".join(str(e).split()) or type(e).__name__
    err_console.print(f"[bold red]{label}[/] {escape(text)}", highlight=False, soft_wrap=True)


def friendly(fn):
    """Turn user errors into one clear line and exit status 2; a broken books check into status 1; an
    interruption into status 130 saying what was kept; anything else into one line and status 1
    (`--debug` shows the traceback)."""
    from .folders import Interrupted

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except (typer.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except InputError as e:
            if DEBUG["on"]:
                raise
            _say_error("error:", e)
            raise typer.Exit(2)
        except ConservationError as e:
            if DEBUG["on"]:
                raise
            _say_error("conservation check failed:", e)
            raise typer.Exit(1)
        except Interrupted as e:
            err_console.print(e.message, highlight=False, soft_wrap=True, markup=False)
            raise typer.Exit(130)
        except KeyboardInterrupt:
            err_console.print("interrupted: finished parts are kept; the same command resumes or starts again",
                              highlight=False)
            raise typer.Exit(130)
        except Exception as e:
            if DEBUG["on"]:
                raise
            _say_error("internal error:", RuntimeError(f"{type(e).__name__}: {e} (corridor --debug ... shows "
                                                       f"the traceback; please report it)"))
            raise typer.Exit(1)
    return wrapper


def _progress(label: str):   # a task's description says, until its first day is done, that the kernels compile
    return Progress(TextColumn(f"[bold]{label}"), TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed}/{task.total} days"), TimeElapsedColumn(), TimeRemainingColumn(), console=err_console)


def run_with_progress(sim, label: str, quiet: bool = False):
    if quiet:
        return sim.run()
    with _compare_bars(label, "days", sim.world.n_days) as tick:
        return sim.run(progress=tick)


def _notes(sc) -> dict:
    return {sc.name: sc.notes.get(sc.name, sc.description or "")}


def _print_summary(sim) -> None:
    from .results import summarise
    s = summarise(sim.to_df(), sim.info)
    m = s["monthly"]
    t = Table(title=f"{sim.scenario.name}: monthly totals (people)", show_lines=False)
    t.add_column("month")
    cols = [c for c in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                        "releases", "removals", "returns_to_mexico") if c in m.columns]
    for c in cols:
        t.add_column(c.replace("_", " "), justify="right")
    for month, row in m.iterrows():
        t.add_row(month, *[f"{row[c]:,.0f}" for c in cols])
    console.print(t)
    info = sim.info
    console.print(f"agents created {info['agents_created']:,} · agent-days {info['agent_days']:,} · "
                  f"{info['agent_days'] / max(info['wall_seconds'], 1e-9) / 1e6:.1f} M agent-days/s · "
                  f"wall {info['wall_seconds']:.1f} s · peak day {s['peak_day'][0]}: {s['peak_day'][1]:,.0f} encounters")


@app.command()
@friendly
def run(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    out: Path = typer.Option(Path("runs/us-mexico"), "--out", "-o", help="output directory"),
    seed: Optional[int] = typer.Option(None, help="random seed, 0 <= seed < 2**63 (default: the scenario's)"),
    scale: Optional[float] = typer.Option(None, help="people per agent: 1 or more, leaving at least one agent "
                                          "expected (default: the scenario's, 1)"),
    set_: List[str] = typer.Option([], "--set", help="override a field: dotted.path=value (repeatable)"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html beside the results"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    force: bool = typer.Option(False, "--force", help="replace an --out folder that is not a corridor run"),
):
    """Run a scenario: metrics.parquet, run.json and report.html in --out, which is replaced whole."""
    from .engine import Simulation
    from .folders import WholeFolder
    from .scenario import load, with_run_settings
    sc = with_run_settings(load(scenario, set_), seed, scale, names=("--seed", "--scale"))
    sim = Simulation(sc)                      # every input checked, the world compiled: nothing has run yet
    with WholeFolder(out, "run", force=force, log=lambda s: err_console.print(s, highlight=False)) as folder:
        run_with_progress(sim, sim.scenario.name, quiet)
        sim.save(folder.stage)
        if report:
            from .analysis.observed import load_observed
            from .report import WorldTables, write_report
            write_report(folder.stage, {sim.scenario.name: sim.to_df()}, WorldTables.from_scenario(sim.scenario),
                         observed=load_observed(), title=f"corridor: {sim.scenario.name}", notes=_notes(sim.scenario),
                         baseline=sim.scenario.name, runs_info={sim.scenario.name: sim.info})
    if not quiet:
        _print_summary(sim)
    if not sim.info.get("agents_created"):
        err_console.print(f"warning: the run created no agent (about {sim.scenario.expected_agents():.2g} were "
                          f"expected at the base departure rates): every metric is zero; a smaller --scale "
                          f"gives more agents", highlight=False)
    console.print(f"results in {folder.out}/ (metrics.parquet, run.json{', report.html' if report else ''})")


@app.command()
@friendly
def check(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    seed: Optional[int] = typer.Option(None, help="random seed, 0 <= seed < 2**63"),
    scale: Optional[float] = typer.Option(None, help="people per agent"),
    set_: List[str] = typer.Option([], "--set", help="override a field: dotted.path=value (repeatable)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="also check that `corridor run` could write here"),
    force: bool = typer.Option(False, "--force", help="as `corridor run --force`"),
):
    """Check a scenario and run options as `corridor run` does, without running anything."""
    from .folders import check_out
    from .scenario import load, with_run_settings
    from .world import compile_world
    sc = with_run_settings(load(scenario, set_), seed, scale, names=("--seed", "--scale"))
    w = compile_world(sc)
    if out is not None:
        check_out(out, "run", force)
    lo, hi = sc.simulated_days()
    console.print(f"ok: {sc.name}: {lo} .. {hi} ({w.n_days} days, {sc.spinup_days} of spin-up), about "
                  f"{sc.expected_agents():,.0f} agents expected at scale {sc.scale:g}, seed {sc.seed}", highlight=False,
                  soft_wrap=True)


@app.command()
@friendly
def compare(
    scenarios: List[str] = typer.Argument(..., help="bundled scenario names or paths to YAML files"),
    out: Path = typer.Option(Path("runs/compare"), "--out", "-o", help="output directory"),
    seed: Optional[int] = typer.Option(None, help="random seed shared by every run (default: the first scenario's)"),
    scale: Optional[float] = typer.Option(None, help="people per agent (default: each scenario's, 1)"),
    set_: List[str] = typer.Option([], "--set", help="override a field in every scenario: dotted.path=value (repeatable)"),
    runs: int = typer.Option(1, "--runs", "-n", help="with N > 1, also an ensemble of N seeds per scenario: bands in the report"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="local worker processes for --runs"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask scheduler address for --runs"),
    branch: Optional[str] = typer.Option(None, "--branch", help="YYYY-MM-DD from which the scenarios differ: "
                                         "the others start from the first's saved state of its eve"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
    force: bool = typer.Option(False, "--force", help="replace an --out folder that is not a corridor comparison"),
):
    """Run scenarios with the same seed (common random numbers) and write DIR/report.html comparing them.

    Each run goes to DIR/<scenario>/ (metrics.parquet, run.json); the report differences every scenario
    from `status-quo` when it is among them (else from the first). With --runs N each scenario also gets
    an ensemble of N seeds (DIR/<scenario>/ensemble/) whose 5-95 % bands are drawn in the report, so a
    difference between scenarios can be judged against the noise. With --branch DATE, states are cached
    under ~/.cache/corridor/states (or $CORRIDOR_STATE_DIR) and reused by later comparisons.
    """
    from .compare import compare_scenarios
    from .batch.runs import RunsFailed
    from .state import StateCache
    when = _date_option("--branch", branch) if branch is not None else None
    try:
        res = compare_scenarios(scenarios, out, seed=seed, scale=scale, runs=runs, overrides=set_, workers=workers,
                                scheduler=scheduler, force=force, progress=None if quiet else _compare_bars,
                                log=None if quiet else (lambda s: console.print(s, highlight=False)),
                                branch=when, state_cache=StateCache() if when is not None else None)
    except RunsFailed as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    names, baseline = res.names, res.baseline
    if not quiet:
        tot = res.totals
        if len(tot):
            lo, hi = tot["start"].iloc[0], tot["end"].iloc[0]
            t = Table(title=f"{_day(lo)} .. {_day(hi)}: {baseline}, and each scenario's difference from it",
                      caption="people (waiting: mean in Mexican border cities); trade through closed crossings, M USD")
            t.add_column("scenario", no_wrap=True)
            keys = ["US southwest encounters", "Detentions in Mexico", "Mean people waiting in Mexican border cities",
                    "Trade through closed crossings"]
            for head in ("US encounters", "MX detentions", "waiting", "trade blocked"):
                t.add_column(head, justify="right")
            for n in names:
                row = tot[tot["scenario"] == n].set_index("quantity")
                cells = []
                for k in keys:
                    v = row["value"].get(k) if k in row.index else None
                    dv = row["difference"].get(k) if k in row.index else None
                    x = v if n == baseline else dv
                    if x is None or x != x:
                        cells.append("n/a")
                    elif k.startswith("Trade"):
                        cells.append(f"{'+' if n != baseline and x > 0 else ''}{x / 1e6:,.1f} M$")
                    else:
                        cells.append(f"{x:,.0f}" if n == baseline else f"{x:+,.0f}")
                t.add_row(n, *cells)
            console.print(t)
    console.print(f"report in {res.report}; runs in {res.out}/<scenario>/")


def _day(x) -> str:
    return str(x)[:10]


def _date_option(option: str, text: str):
    """A YYYY-MM-DD option, or an InputError naming it."""
    import datetime as dt
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: not a date; give YYYY-MM-DD, e.g. 2023-12-28") from None


@contextlib.contextmanager
def _compare_bars(label: str, unit: str, total):
    """A bar of days for a run (`corridor run`, each of compare's runs), of runs for each ensemble."""
    if unit == "days":
        with _progress(label) as bar:
            task = bar.add_task(compile_note(), total=total)
            yield lambda done, total: bar.update(task, completed=done, description="") if done % 10 in (0, 1) or done == total else None
    else:
        with _runs_progress(label) as bar:
            task = bar.add_task("runs", total=None, failed="")

            def tick(done, total, failed):
                bar.update(task, completed=done, total=total, failed=f"[red]{failed} failed" if failed else "")
            yield tick


@app.command()
@friendly
def metrics(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    set_: List[str] = typer.Option([], "--set", help="override a field: dotted.path=value (repeatable)"),
):
    """List the metrics a run records (what a rule's condition may watch), one a line."""
    from .phases import metric_names
    from .scenario import load
    for name in metric_names(load(scenario, set_)):
        print(name)


@app.command()
@friendly
def levers(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file (its keys are listed)"),
    set_: List[str] = typer.Option([], "--set", help="override a field: dotted.path=value (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print the registry as JSON (a list of objects)"),
):
    """The levers of the talks, from the lever registry: path, keys, kind, bounds, range, unit, side, phase."""
    from .levers import describe
    from .scenario import load
    rows = describe(load(scenario, set_))
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    t = Table(title=f"levers of {scenario} (--json adds each one's meaning, neutral value and full paths)",
              show_lines=False)
    for col in ("path", "keys", "kind", "bounds", "range", "unit", "side", "phase"):
        t.add_column(col, no_wrap=col == "path")
    for r in rows:
        keys = r["keys"]
        shown_keys = "" if keys is None else (", ".join(keys) if len(keys) <= 4 else f"{len(keys)} {r['key']} keys")
        bounds = "" if r["kind"] in ("place", "weights") else (
            ", ".join(r["choices"]) if r["choices"] else
            f"{'' if r['min'] is None else format(r['min'], 'g')} .. {'' if r['max'] is None else format(r['max'], 'g')}")
        rng = "" if not r["range"] else f"{r['range'][0]:g} .. {r['range'][1]:g}"
        t.add_row(r["path"], shown_keys, r["kind"] + ("" if r["dated"] else " (fixed)"), bounds, rng,
                  r["unit"], r["side"], r["phase"])
    console.print(t)


@app.command()
@friendly
def validate(
    run_dir: Path = typer.Argument(..., help="a run directory (with metrics.parquet)"),
    observed: Optional[Path] = typer.Option(None, "--observed", help="CSV month,series,value (default: bundled)"),
    start: Optional[str] = typer.Option(None, help="first month compared, YYYY-MM"),
    end: Optional[str] = typer.Option(None, help="last month compared, YYYY-MM"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
):
    """Compare a run with observed monthly data: MAPE, MAE, bias, and naive baselines."""
    from .analysis.validate import compare
    result = compare(run_dir, observed, months=(start, end) if (start or end) else None)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        result.render(console)


@app.command()
@friendly
def schema():
    """Print the JSON Schema of scenario files."""
    from .scenario import json_schema
    print(json.dumps(json_schema(), indent=2))


@app.command()
@friendly
def scenarios():
    """List the bundled scenarios, one line each."""
    from .scenario import bundled_dir, bundled_names, read_yaml
    for name in bundled_names():
        data = read_yaml(bundled_dir() / f"{name}.yaml")
        desc = " ".join(str(data.get("description", "")).split())
        console.print(f"[bold]{name:<24}[/] {desc}", highlight=False, soft_wrap=True)


def _runs_progress(label: str):
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.completed}/{task.total} runs"),
                    TextColumn("{task.fields[failed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, transient=False)


def _run_batch(batch, label: str, quiet: bool, **kw):
    """Run an Ensemble or Sensitivity with a progress bar of runs done; failed runs exit 1, named."""
    from .batch.runs import RunsFailed
    try:
        if quiet:
            return batch.run(**kw)
        with _runs_progress(label) as bar:
            task = bar.add_task("runs", total=None, failed="")

            def tick(done, total, failed):
                bar.update(task, completed=done, total=total, failed=f"[red]{failed} failed" if failed else "")
            return batch.run(progress=tick, **kw)
    except RunsFailed as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
@friendly
def ensemble(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    runs: int = typer.Option(10, "--runs", "-n", help="number of runs (seeds derived from the scenario seed)"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory (an interrupted ensemble resumes here)"),
    scale: Optional[float] = typer.Option(None, help="people per agent (default: the scenario's)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                          help="local worker processes (default: CPU count); ignored with --scheduler"),
    vary: List[str] = typer.Option([], "--vary", help="draw a parameter per run: PARAM=LOW:HIGH (repeatable)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask scheduler address, e.g. tcp://127.0.0.1:8786"),
    seed: Optional[int] = typer.Option(None, help="base seed (default: the scenario's)"),
    set_: List[str] = typer.Option([], "--set", help="override a field for every run: dotted.path=value (repeatable)"),
    retries: int = typer.Option(2, help="retries of a run whose task raised"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html with fan charts"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """N runs on dask (LocalCluster or --scheduler): runs/run=<k>/part.parquet, quantiles.parquet, report.html."""
    from .batch.ensemble import Ensemble
    from .folders import check_place
    check_place(out)
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    ens = Ensemble(scenario, runs=runs, scale=scale, vary=vary, seed=seed, overrides=set_, retries=retries)
    _run_batch(ens, f"{ens.sc.name} ensemble", quiet, client=scheduler, out_dir=out, workers=workers)
    if report:
        ens.write_report(out)
    if not quiet:
        tot = ens.run_totals()
        t = Table(title=f"{ens.sc.name}: totals over the recorded days across {ens.runs} runs (people)")
        for c, j in (("metric", "left"), ("5%", "right"), ("median", "right"), ("95%", "right")):
            t.add_column(c, justify=j)
        for m in [c for c in tot.columns if c in ("sw_encounters", "mexico_detentions", "darien_crossings",
                                                  "releases", "removals", "returns_to_mexico")]:
            q = tot[m].quantile([0.05, 0.5, 0.95]).to_numpy()
            t.add_row(m.replace("_", " "), *[f"{v:,.0f}" for v in q])
        console.print(t)
        console.print(f"{len(ens.executed)} run(s) executed, {len(ens.skipped)} already finished, "
                      f"wall {ens.wall_seconds:.1f} s")
    console.print(f"results in {out}/ (quantiles.parquet, run_totals.csv, runs/{', report.html' if report else ''})")


@app.command()
@friendly
def sensitivity(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    params: List[str] = typer.Option([], "--params", "--param", help="uncertain parameter PARAM=LOW:HIGH (repeatable)"),
    levers: List[str] = typer.Option([], "--levers", "--lever", help="policy lever PARAM=LOW:HIGH (repeatable)"),
    samples: int = typer.Option(8, "--samples", "-n", help="Morris trajectories, or Sobol base sample (a power of 2)"),
    method: str = typer.Option("morris", "--method", help="morris (screening, samples x (k+1) runs) or sobol (samples x (k+2))"),
    outputs: List[str] = typer.Option([], "--output", help="METRIC:STAT, STAT in sum|mean|max|min|last (repeatable; "
                                      "default sw_encounters:sum, us_custody_population:max, stranded_mexico:mean)"),
    period: str = typer.Option("2024-01-01:2024-06-30", "--period", help="FROM:TO of the outputs, clipped to the run"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory (resumes an interrupted analysis)"),
    scale: Optional[float] = typer.Option(None, help="people per agent (default: the scenario's)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="local worker processes (default: CPU count)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask scheduler address, e.g. tcp://127.0.0.1:8786"),
    seed: Optional[int] = typer.Option(None, help="seed of every run and of the sampling (default: the scenario's)"),
    set_: List[str] = typer.Option([], "--set", help="override a field for every run: dotted.path=value (repeatable)"),
    retries: int = typer.Option(2, help="retries of a run whose task raised"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Global sensitivity (SALib Morris or Sobol) of outputs to parameters and levers: a ranked table and a chart."""
    from .batch.sensitivity import Sensitivity
    from .folders import check_place
    check_place(out)
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    s = Sensitivity(scenario, params=params, levers=levers, samples=samples, method=method, outputs=outputs or None,
                    period=period, scale=scale, seed=seed, overrides=set_, retries=retries)
    if not quiet:
        console.print(f"{s.method}: {len(s.names)} factor(s), {s.n_runs} runs", highlight=False)
    _run_batch(s, f"{s.sc.name} {s.method}", quiet, client=scheduler, out_dir=out, workers=workers)
    s.render(console)
    console.print(f"results in {out}/ (sensitivity.csv, sensitivity.png, samples.csv)")


@app.command()
@friendly
def calibrate(
    scenario: str = typer.Argument("us-mexico", help="bundled scenario name or path to a YAML file"),
    observed: Optional[Path] = typer.Option(None, "--observed", help="CSV month,series,value (default: bundled monthly.csv)"),
    trials: int = typer.Option(50, "--trials", "-n", help="trials in the study in all (a rerun with more resumes it)"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory: study.journal, best.yaml, fit.json, report.md"),
    scale: Optional[float] = typer.Option(20.0, help="people per agent in the fitting runs"),
    workers: int = typer.Option(2, "--workers", "-w", help="local dask worker processes (0: run in this process)"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask scheduler address, e.g. tcp://127.0.0.1:8786"),
    seed: int = typer.Option(0, help="seed of the sampler (the simulations use the scenario's seed)"),
    train: str = typer.Option("2022-10:2023-09", "--train", help="training months START:END"),
    validation: str = typer.Option("2023-10:2023-12", "--validation", help="validation months START:END (reported, never fitted)"),
    params: List[str] = typer.Option([], "--params", help="PATH=LOW:HIGH[:log|:int] to fit, repeatable; "
                                     "{A|B} and * select list items sharing one value (default: the built-in set)"),
    batch: int = typer.Option(8, "--batch", help="trials asked per batch (fixed: results do not depend on --workers)"),
    ratio_iterations: int = typer.Option(3, "--ratio-iterations", help="ratio-scaling passes of the base rates before and after the study"),
    fit_bases: bool = typer.Option(True, "--fit-bases/--no-fit-bases", help="fit base departure rates by ratio scaling"),
    defaults: Optional[Path] = typer.Option(None, "--defaults", help="also write the fitted values as a defaults file "
                                            "for a scenario builder, e.g. src/corridor/data/calibration/us-mexico.fit.yaml "
                                            "(a joint period's own values go to <period>.fit.yaml beside it)"),
    joint: bool = typer.Option(True, "--joint/--single", help="fit the periods the targets file joins to this scenario "
                               "together with it (one set of behaviour), or this scenario alone"),
    with_periods: List[str] = typer.Option([], "--with", help="joint period SCENARIO=TRAIN[,VALIDATION][,WEIGHT] "
                                           "(months START:END; repeatable; replaces the targets file's)"),
    period_specific: Optional[List[str]] = typer.Option(None, "--period-specific", help="field ending fitted for each "
                                                        "period on its own, e.g. departures.trend_per_year (repeatable)"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Fit uncertain parameters to observed data (optuna on dask): best.yaml, fit.json and report.md in --out."""
    from .batch.calibration import calibrate as run_calibration
    from .folders import check_place
    check_place(out)
    if workers < 0:
        raise InputError(f"--workers {workers}: must be 0 (in this process) or more")
    log = (lambda s: None) if quiet else (lambda s: err_console.print(s, highlight=False))
    res = run_calibration(scenario, observed=observed, trials=trials, out=out, scale=scale, workers=workers,
                          scheduler=scheduler, seed=seed, train=train, validation=validation, params=params or None,
                          batch=batch, ratio_iterations=ratio_iterations, fit_bases=fit_bases, joint=joint,
                          with_periods=with_periods or None, period_specific=period_specific, log=log)
    fit = res.fit
    t = Table(title=f"fit of {scenario}: {fit['n_parameters']} parameters, {fit['observations']['total']} observed numbers")
    t.add_column("figure")
    for w in ("train", "validation", "full"):
        if fit.get(w):
            t.add_column(f"{w}\n{fit[w]['window']}", justify="right")
    for k, label in res.term_labels.items():
        t.add_row(label, *[("–" if fit[w]["terms"].get(k) is None else f"{fit[w]['terms'][k]:.2f}")
                           for w in ("train", "validation", "full") if fit.get(w)])
    console.print(t)
    for name, per in fit.get("periods", {}).items():
        console.print(f"joint period {name}: objective " + ", ".join(
            f"{w} {per[w]['window']} {per[w]['objective']:.3f}" for w in ("train", "validation") if per.get(w)),
            highlight=False)
    console.print(f"results in {res.out}/ (best.yaml, fit.json, report.md, study.journal)", highlight=False)
    if defaults is not None:
        import shlex
        from .batch.calibration import write_defaults
        for path in write_defaults(fit, shlex.join(["corridor", *sys.argv[1:]]), Path(str(scenario)).stem, res.targets,
                                   defaults):
            console.print(f"fitted defaults in {path}", highlight=False)


@app.command()
@friendly
def deals(
    scenario: str = typer.Argument("status-quo", help="bundled scenario name or YAML path: the no-deal base"),
    budget: int = typer.Option(..., "--budget", "-n", help="deals evaluated in all (a rerun with more resumes)"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory (an interrupted search resumes here)"),
    branch: str = typer.Option("2023-12-28", "--branch", help="the day a deal's levers take effect"),
    scale: Optional[float] = typer.Option(None, help="people per agent (default: the scenario's)"),
    runs: int = typer.Option(2, "--runs", "-r", help="runs per deal (seeds and uncertain parameters shared by every deal)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="local worker processes (default 1); ignored with --scheduler"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="dask scheduler address, e.g. tcp://127.0.0.1:8786"),
    seed: Optional[int] = typer.Option(None, help="seed of the runs and of the search (default: the scenario's)"),
    set_: List[str] = typer.Option([], "--set", help="override a field for every deal: dotted.path=value (repeatable)"),
    lever: List[str] = typer.Option([], "--lever", help="a searched lever PATH[=LOW:HIGH] (repeatable; default: the talks' levers)"),
    constraint: List[str] = typer.Option([], "--constraint", help="NAME<=VALUE or NAME>=VALUE on an objective or a lever (repeatable)"),
    period: Optional[str] = typer.Option(None, "--period", help="FROM:TO of the objectives (default: the 6 months after the branch month)"),
    population: int = typer.Option(16, "--population", help="deals per NSGA-II generation"),
    vary: List[str] = typer.Option([], "--vary", help="uncertain parameter PATH=LOW:HIGH (repeatable; default: the calibration's behaviour)"),
    discovery: int = typer.Option(0, "--discovery", help="draws of the uncertain parameters for scenario discovery of the headline deal (0: none)"),
    options: bool = typer.Option(False, "--options/--no-options", help="also run the bundled December 2023 options as deals and place them against the front"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Search US-Mexico deals (NSGA-II on dask): front.csv, objectives.json, deals/, convergence.csv, report.html."""
    from .batch.runs import RunsFailed
    from .deals import DealSearch
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    if discovery < 0:
        raise InputError(f"--discovery {discovery}: must be 0 or more")
    s = DealSearch(scenario, budget=budget, branch=branch, scale=scale, runs=runs, seed=seed, overrides=set_,
                   levers=lever or None, constraints=constraint, period=period, population=population, vary=vary or None)
    log = (lambda m: None) if quiet else (lambda m: err_console.print(m, highlight=False))
    try:
        s.run(out, client=scheduler, workers=workers, log=log)
        if options:
            from .deals.options import place_options
            place_options(s, client=scheduler, workers=workers, log=log)
        if discovery:
            from .deals.discovery import discover
            discover(s, draws=discovery, client=scheduler, workers=workers, log=log)
    except RunsFailed as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    front = s.front()
    console.print(f"{len(s.deals)} deals evaluated, {len(front) - 1} on the front; results in {out}/ "
                  f"(front.csv, objectives.json, deals/, convergence.csv, report.html)", highlight=False)


@app.command("deals-merge")
@friendly
def deals_merge(
    dirs: List[Path] = typer.Argument(..., help="the --out folders of finished `corridor deals` searches (e.g. one per seed)"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory: front.csv and hypervolume.csv"),
):
    """Merge the fronts of several deal searches: the deals none dominates, and each front's hypervolume."""
    from .deals.front import merge_dirs
    hv = merge_dirs([str(d) for d in dirs], out)
    for _, r in hv.iterrows():
        console.print(f"{r['front']:<24} {int(r['deals']):>5} deals  hypervolume {r['hypervolume']:.4g}", highlight=False)
    console.print(f"merged front in {out}/front.csv, hypervolumes in {out}/hypervolume.csv", highlight=False)


@app.command()
@friendly
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on (loopback unless you say otherwise)"),
    port: int = typer.Option(8050, help="port to listen on"),
    parallel: int = typer.Option(2, "--parallel", min=1, max=8, help="runs at once; the rest wait in the queue"),
):
    """Start the dashboard: the talks' levers in, flows, queues and people out, in the browser, offline."""
    from .dashboard import serve as serve_app
    if not 1 <= port <= 65535:
        raise InputError(f"--port {port}: valid: 1 to 65535")
    console.print(f"corridor dashboard on http://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    serve_app(host=host, port=port, parallel=parallel)


def main():  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
