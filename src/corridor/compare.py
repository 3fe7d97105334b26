"""Scenarios side by side: each run with one seed, optional ensembles for bands, one report of them all.

Every scenario runs with the same seed (common random numbers: the same person gets the same draws in every
scenario), so a difference between two runs is the levers', not the dice's; with ``runs > 1`` each scenario
also gets an ensemble of seeds whose bands let the reader judge a difference against the noise.
`corridor compare` is this function plus option parsing and printing.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Sequence

import pandas as pd

from . import __version__
from .analysis.observed import load_observed
from .engine import Simulation
from .errors import InputError
from .report import WorldTables, report_totals, write_report
from .folders import WholeFolder
from .results import now, write_json
from .scenario import check_seed, load, with_run_settings
from .state import StateCache, run_branched

__all__ = ["Comparison", "compare_scenarios"]

# progress(label, unit, total) → a context manager yielding the tick to hand the run (None: no ticks).
# unit "days": one simulation, tick(done, total); unit "runs": one ensemble, tick(done, total, failed).
Progress = Callable[[str, str, "int | None"], ContextManager[Callable | None]]


@dataclass
class Comparison:
    """What `compare_scenarios` wrote and what the report was made from."""

    out: Path                       # DIR: report.html, totals.csv, fit.csv, figures/, <scenario>/
    report: Path                    # DIR/report.html
    names: list[str]                # scenario names, in the order given
    baseline: str                   # the scenario the others are differenced from
    seed: int                       # the seed every run shared
    runs: dict[str, pd.DataFrame]   # scenario → tidy (date, metric, value) metrics, as saved
    totals: pd.DataFrame            # `report_totals` of the runs over the report's period
    rule_switches: dict[str, list[dict]]  # scenario → the conditional rules' switches (rule, switch, date)


def compare_scenarios(scenarios: Sequence[str | Path], out: str | Path, *, seed: int | None = None,
                      scale: float | None = None, runs: int = 1, overrides: Sequence[str] = (),
                      workers: int | None = None, scheduler: str | None = None, force: bool = False,
                      progress: Progress | None = None, log: Callable[[str], None] | None = None,
                      branch: dt.date | None = None, state_cache: StateCache | None = None) -> Comparison:
    """Run `scenarios` (bundled names or YAML paths) with one seed and write ``out/report.html`` comparing them.

    Each run goes to ``out/<scenario>/`` (metrics.parquet, run.json). seed: shared by every run (default: the
    first scenario's). scale: people per agent (default: each scenario's). overrides: ``dotted.path=value``
    applied to every scenario. runs > 1: also an ensemble of that many seeds per scenario in
    ``out/<scenario>/ensemble/`` (on dask: `workers` local processes or the `scheduler` address), whose bands
    the report draws. The baseline is the labels' (`corridor.report.labels`) when it is among the scenarios,
    else the first. progress: see `Progress`. log: one line per conditional rule switched in a run, and how
    each run ran. branch: a date from which the scenarios may differ: the first run keeps its state on the
    eve (and in `state_cache`, if given), and every scenario identical to it before that date starts from
    that state (bit-identical to a full run, at a fraction of the cost).

    ``out`` is replaced whole (`corridor.folders.WholeFolder`): everything is written beside it and swapped in
    at the end, with ``compare.json`` (what was compared, with which seed and scale) marking it a comparison;
    a non-empty ``out`` that is not one is refused unless ``force``. Every file, the seed, the scale and ``out``
    are checked before the first run starts; an InputError names the problem. A failed ensemble raises
    `corridor.batch.runs.RunsFailed`.
    """
    overrides = list(overrides)
    loaded = [load(s, overrides) for s in scenarios]  # every file checked before the first run starts
    names = [sc.name for sc in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"compare: scenario name(s) {', '.join(dup)} given more than once; each run needs its own "
                         f"name (its results go to {out}/<name>/)")
    if int(runs) < 1:
        raise InputError(f"--runs {runs}: needs 1 or more")
    common_seed = check_seed(seed, "--seed") if seed is not None else loaded[0].seed
    if workers is not None and int(workers) < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    sims = [Simulation(with_run_settings(sc, common_seed, scale, names=("--seed", "--scale"))) for sc in loaded]
    if branch is not None:
        for sim in sims:
            sim.day_before(branch)                    # the branch date is a day of every run: checked up front
    ensembles = []
    if runs > 1:
        from .batch.ensemble import Ensemble
        ensembles = [Ensemble(given, runs=runs, scale=scale, seed=common_seed, overrides=overrides) for given in scenarios]
    with WholeFolder(out, "compare", force=force, log=log) as folder:
        result = _compare(scenarios, sims, ensembles, folder.stage, common_seed, scale, runs, overrides, workers,
                          scheduler, progress, log, branch, state_cache)
    result.out, result.report = folder.out, folder.out / result.report.name
    return result


def _compare(scenarios, sims: list[Simulation], ensembles: list, out: Path, common_seed: int, scale, runs: int, overrides, workers,
             scheduler, progress, log, branch, state_cache) -> Comparison:
    """The runs, ensembles and report of `compare_scenarios`, written into `out` (the staging folder)."""
    names = [s.scenario.name for s in sims]
    bar = progress or (lambda label, unit, total: nullcontext(None))
    runs_, notes, switches, infos, world, states = {}, {}, {}, {}, None, {}
    for sim in sims:
        sc = sim.scenario
        with bar(sc.name, "days", sim.world.n_days) as tick:
            if branch is None:
                sim.run(progress=tick)
            else:
                how = run_branched(sim, branch, state_cache, states, progress=tick)
                if log is not None:
                    log(f"  {sc.name}: {how}")
        sim.save(out / sc.name)
        infos[sc.name] = sim.info
        runs_[sc.name] = sim.to_df()
        notes[sc.name] = sc.notes.get(sc.name) or sc.description or ""
        world = world or sim.world
        switches[sc.name] = list(sim.info.get("rule_switches") or [])
        if log is not None:
            for sw in switches[sc.name]:
                log(f"  {sc.name}: rule {sw['rule']} {sw['switch']} from {sw['date']}")
    bands = None
    if ensembles:
        bands = {}
        for ens, sc in zip(ensembles, (s.scenario for s in sims)):
            with bar(f"{sc.name} ×{runs}", "runs", None) as tick:
                ens.run(client=scheduler, out_dir=out / sc.name / "ensemble", workers=workers,
                        **({"progress": tick} if tick is not None else {}))
            bands[sc.name] = ens.quantiles()
    tables = WorldTables.from_scenario(world.scenario)
    preferred = tables.labels.baseline
    baseline = preferred if preferred in runs_ else names[0]
    report = write_report(out, runs_, tables, observed=load_observed(), title=f"corridor: {', '.join(names)}",
                          notes=notes, baseline=baseline, bands=bands, runs_info=infos)
    totals = report_totals(runs_, baseline=baseline, labels=tables.labels)
    write_json(out / "compare.json", {"scenarios": [str(s) for s in scenarios], "names": names, "baseline": baseline,
                                      "seed": common_seed, "scale": scale, "runs": runs, "overrides": list(overrides),
                                      "version": __version__, "date": now(),
                                      "scenario_hashes": {n: i["scenario_hash"] for n, i in infos.items()}})
    return Comparison(out=out, report=report, names=names, baseline=baseline, seed=common_seed, runs=runs_,
                      totals=totals, rule_switches=switches)
