"""The calibration study: base rates by ratio scaling, then an optuna TPE study on dask, then the outputs.

    from corridor.batch.calibration import calibrate
    result = calibrate("us-mexico", observed=None, trials=200, out="runs/fit", scale=20, workers=2)

Two kinds of fitted parameter, each with a meaning (never a value per month, never an observed series
fed back in as an input): the base departure rates, by ratio scaling (ratio.py), and the shared
behavioural parameters (`--params`, or the default set of params.py), by an optuna TPE study against the
objective of objective.py over the training months.

Reproducible: the sampler for trial j is a TPESampler seeded by (seed, j) and trials are asked in
batches of fixed size (not the number of workers), evaluated in parallel, and told in trial order;
so the same seed and number of trials give the same parameters for any number of workers. The study
lives in an optuna journal file in the output directory; a killed run resumes: trials already told
are kept, trials asked but not told are evaluated with their stored parameters.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ...analysis.observed import load_observed
from ...analysis.validate import TRAINING_MONTHS, VALIDATION_MONTHS
from ...errors import InputError
from ...results import engine_fingerprint
from .joint import all_periods, evaluate, initial_values as joint_initial_values, keyed_bases, own_bases, ratio_fit, \
    simulate_all, split_params
from .objective import Joined, Setup, Window, detention_table, nationality_targets, parse_window, scenario_terms
from .outputs import fit_summary, period_summary, write_outputs
from .params import BASE_RATE, Param, default_params, overrides_for, parse_param
from .ratio import in_worker, round_sig
from .targets import Targets, catalogue, load_targets

TRAIN_DEFAULT = TRAINING_MONTHS
VALIDATION_DEFAULT = VALIDATION_MONTHS
BATCH_DEFAULT = 8
RATIO_ITERATIONS_DEFAULT = 3
STUDY_NAME = "corridor-calibration"
JOURNAL = "study.journal"


@dataclass
class CalibrationResult:
    out: Path
    params: list[Param]
    best_values: dict[str, float]
    bases: dict[str, float]
    fit: dict = field(repr=False)
    targets: Targets | None = field(default=None, repr=False)

    @property
    def term_labels(self) -> dict[str, str]:
        """Every term of the scenario's objective, in order, with its label."""
        return {k: t.label for k, t in catalogue(self.targets).items()}


def calibrate(
    scenario: str | Path,
    observed: str | Path | None = None,
    trials: int = 50,
    out: str | Path = "runs/calibration",
    scale: float | None = 20.0,
    workers: int = 2,
    scheduler: str | None = None,
    seed: int = 0,
    train: str | Window | None = None,
    validation: str | Window | None = None,
    params: list[str] | None = None,
    batch: int = BATCH_DEFAULT,
    ratio_iterations: int = RATIO_ITERATIONS_DEFAULT,
    ratio_steps: int = 1,
    fit_bases: bool = True,
    joint: bool = True,
    with_periods: list[str] | None = None,
    period_specific: list[str] | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> CalibrationResult:
    """Fit, write DIR/best.yaml, DIR/fit.json and DIR/report.md, and return the result.

    `trials` is the study's total: a second call with the same `out` and more trials reuses the trials
    already told. `workers=0` evaluates in this process (no dask). `joint`: fit the other periods the
    targets file's `joint` section names together with this one (joint.py); False fits this scenario alone.
    `with_periods` (`SCENARIO=START:END[,START:END][,WEIGHT]`: training, validation months, weight; see
    `parse_period`)
    and `period_specific` replace the targets file's joint periods and period-specific fields.
    """
    import optuna

    from ...scenario import Scenario, load_raw

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if trials < 0:
        raise InputError(f"--trials {trials}: must be 0 or more")
    if batch < 1:
        raise InputError(f"--batch {batch}: must be at least 1")
    t_start = time.perf_counter()
    raw, path = load_raw(scenario)
    raw.pop("extends", None)
    obs_table = load_observed(observed)
    train_w = train if isinstance(train, Window) else parse_window(train or ":".join(TRAIN_DEFAULT), "train")
    valid_w = validation if isinstance(validation, Window) else parse_window(
        validation or ":".join(VALIDATION_DEFAULT), "validation")
    full_w = Window(min(train_w.start, valid_w.start), max(train_w.end, valid_w.end))
    published = load_targets(scenario)       # the scenario's targets file (None: generic terms only)
    fitted = [parse_param(s, raw) for s in params] if params else default_params(raw, published)
    _check_no_overlap(fitted, fit_bases)
    sc = Scenario.model_validate(raw)
    run_scale = float(scale) if scale is not None else float(sc.scale)
    setup = _setup(raw, sc, published, obs_table, run_scale, train_w, valid_w, full_w)
    declared = published.joint if published is not None else None
    periods = [parse_period(t) for t in with_periods] if with_periods else declared.periods if declared else ()
    specific = tuple(period_specific) if period_specific is not None else declared.period_specific if declared else ()
    setup.periods = tuple(_joined(p, obs_table, run_scale) for p in periods) if joint else ()
    if setup.periods:
        fitted = split_params(fitted, setup, specific)
    initial_bases: dict[str, float] = {}
    for j, s in all_periods(setup):
        scj = Scenario.model_validate(s.raw)
        nat_names = [n.name for n in scj.nationalities]
        if not any(nationality_targets(obs_table, nat_names, s.train).values()):
            raise InputError(f"observed file has no encounters by nationality (sw_encounters:<nationality>) in the "
                             f"training window {s.train} of {s.name}; calibration needs them for the base departure rates")
        initial_bases.update(keyed_bases({n.name: float(n.departures.base_per_day) for n in scj.nationalities}, j))
    nat_names = [n.name for n in sc.nationalities]
    initial_values = joint_initial_values(fitted, setup)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "scenario": str(path), "scenario_sha": _masked_sha(raw, [p for p in fitted if p.period in (None, setup.name)],
                                      nat_names if fit_bases else []),
        "observed": str(observed or "bundled monthly.csv"),
        "observed_sha": _sha(obs_table.to_dict("list")), "scale": run_scale, "sim_seed": setup.sim_seed, "seed": seed,
        "train": str(train_w), "params": [p.spec() for p in fitted], "batch": batch, "ratio_steps": ratio_steps,
        "fit_bases": fit_bases, "ratio_iterations": ratio_iterations,
    }
    if setup.periods:
        config["periods"] = [
            {"scenario": j.name, "train": str(j.setup.train), "weight": j.weight,
             "scenario_sha": _masked_sha(j.setup.raw, [p for p in fitted if p.period in (None, j.name)],
                                         list(own_bases(initial_bases, setup, j)) if fit_bases else [])}
            for j in setup.periods]
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out_dir / JOURNAL)))
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="minimize", load_if_exists=True,
                                sampler=_sampler(seed, 0))
    old = study.user_attrs.get("config")
    engine = engine_fingerprint()
    if old is None:
        study.set_user_attr("config", config)
        study.set_user_attr("engine_sha", engine)
        study.set_user_attr("initial_values", initial_values)   # where the study started (the report's "initial")
        study.set_user_attr("initial_bases", initial_bases)
    elif study.user_attrs.get("engine_sha") != engine:
        log(f"warning: the simulator's code changed since this study began (engine {study.user_attrs.get('engine_sha')}"
            f" -> {engine}); trials already told were computed with the old code")
    elif {k: v for k, v in old.items() if k not in INFORMATIVE} != {k: v for k, v in config.items() if k not in INFORMATIVE}:
        diff = [k for k in config if k not in INFORMATIVE and old.get(k) != config[k]]
        raise InputError(f"{out_dir}: holds a study with different settings ({', '.join(diff)}); "
                         "use another --out or the same settings to resume")

    # a rerun after the fitted values were written back into the scenario: start values are the study's own
    initial_values = {k: study.user_attrs.get("initial_values", initial_values).get(k, v) for k, v in initial_values.items()}
    initial_bases = {k: study.user_attrs.get("initial_bases", initial_bases).get(k, v) for k, v in initial_bases.items()}
    client, cluster = (None, None) if workers == 0 and not scheduler else _dask_client(workers, scheduler)
    try:
        # ---- stage 1: base rates by ratio scaling, with the starting behaviour
        if fit_bases and "stage1_bases" not in study.user_attrs:
            log(f"stage 1: ratio scaling of {len(nat_names)} base departure rates ({ratio_iterations} iterations)")
            bases1, hist1 = _call(client, ratio_fit, setup, overrides_for(fitted, initial_values), initial_bases,
                                  ratio_iterations)
            study.set_user_attr("stage1_bases", bases1)
            study.set_user_attr("stage1_history", hist1)
        bases1 = study.user_attrs.get("stage1_bases", initial_bases) if fit_bases else initial_bases
        steps = ratio_steps if fit_bases else 0

        # ---- stage 2: the study
        if not study.trials and trials > 0:
            study.enqueue_trial(initial_values)  # trial 0: the scenario as it stands
        _run_study(study, fitted, trials, batch, seed, setup, bases1, steps, client, log)

        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if done:
            best = min(done, key=lambda t: (t.value, t.number))
            best_values = {p.name: best.params[p.name] for p in fitted}
            best_bases = best.user_attrs.get("bases", bases1)
        else:
            best, best_values, best_bases = None, initial_values, bases1
        best_values = {k: (int(v) if isinstance(v, (int, np.integer)) else round_sig(float(v))) for k, v in best_values.items()}

        # ---- stage 3: base rates again, for the best behaviour; then the final run
        stage3 = []
        if fit_bases:
            # redone when the best trial or the simulator's code changes (a rerun after an engine change refreshes
            # the base rates for the current mechanics, keeping the study's shared parameters)
            key = json.dumps({"values": best_values, "bases": best_bases, "trial": best.number if best else None,
                              "engine": engine}, sort_keys=True)
            if study.user_attrs.get("stage3_key") != key:
                log(f"stage 3: ratio scaling of the base rates for the best trial ({ratio_iterations} iterations)")
                final_bases, stage3 = _call(client, ratio_fit, setup, overrides_for(fitted, best_values), best_bases,
                                            ratio_iterations)
                study.set_user_attr("stage3_key", key)
                study.set_user_attr("stage3_bases", final_bases)
                study.set_user_attr("stage3_history", stage3)
            final_bases = study.user_attrs["stage3_bases"]
            stage3 = study.user_attrs.get("stage3_history", [])
        else:
            final_bases = initial_bases
        log("final run with the fitted values")
        dailies = _call(client, simulate_all, setup, overrides_for(fitted, best_values),
                        final_bases if fit_bases else {})
        daily = dailies[setup.name]
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    fit = fit_summary(setup, fitted, best_values, final_bases, initial_values, initial_bases, fit_bases, daily,
                       study, best, config, stage3, time.perf_counter() - t_start)
    fit["started_from"] = (old or config)["scenario"]   # the scenario file the study's first call was given
    for j in setup.periods:
        fit["periods"][j.name] = period_summary(j, fitted, best_values, final_bases, initial_values, initial_bases,
                                                fit_bases, dailies[j.name])
    write_outputs(out_dir, path, setup, fitted, best_values, final_bases if fit_bases else {}, fit, published)
    return CalibrationResult(out=out_dir, params=fitted, best_values=best_values, bases=final_bases, fit=fit,
                             targets=published)


def parse_period(text: str):
    """`SCENARIO=TRAIN_START:TRAIN_END[,VALID_START:VALID_END][,WEIGHT]` (as --with): a joint period."""
    from pydantic import ValidationError
    from .targets import JointPeriod
    name, eq, rest = text.partition("=")
    parts = [p.strip() for p in rest.split(",")]
    if not eq or not name.strip() or not 1 <= len(parts) <= 3:
        raise InputError(f"--with {text!r}: expected SCENARIO=START:END[,START:END][,WEIGHT], "
                         "e.g. us-mexico-2019=2019-01:2019-12,2020-01:2020-02,1")
    fields = {"scenario": name.strip(), "train": parts[0]}
    for p in parts[1:]:
        fields["validation" if ":" in p else "weight"] = p
    try:
        return JointPeriod.model_validate(fields)
    except ValidationError as err:
        e = err.errors()[0]
        raise InputError(f"--with {text!r}: field {e['loc'][0]}: bad value {e.get('input')!r}: "
                         f"{e['msg'].removeprefix('Value error, ')}") from None


def _setup(raw: dict, sc, published, obs_table, run_scale: float, train_w: Window, valid_w: Window,
           full_w: Window) -> Setup:
    detentions = detention_table(published.detentions) if published is not None and published.detentions else None
    return Setup(raw=raw, observed=obs_table, detentions=detentions, scale=run_scale, sim_seed=int(sc.seed),
                 train=train_w, validation=valid_w, full=full_w, targets=published,
                 terms=scenario_terms(sc, published), name=str(raw.get("name", "")))


def _joined(period, obs_table, run_scale: float) -> Joined:
    """Another period of a joint fit, from its entry in the targets file: its scenario, targets and windows."""
    from ...scenario import Scenario, load_raw

    raw, path = load_raw(period.scenario)
    raw.pop("extends", None)
    sc = Scenario.model_validate(raw)
    train_w = parse_window(period.train, f"joint period {period.scenario} train")
    valid_w = parse_window(period.validation, f"joint period {period.scenario} validation") if period.validation \
        else train_w
    full_w = Window(min(train_w.start, valid_w.start), max(train_w.end, valid_w.end))
    return Joined(_setup(raw, sc, load_targets(period.scenario), obs_table, run_scale, train_w, valid_w, full_w),
                  period.weight, str(path))


def _check_no_overlap(params: list[Param], fit_bases: bool) -> None:
    seen: dict[str, str] = {}
    for p in params:
        for path in p.paths:
            if path in seen:
                raise InputError(f"--params: {path} is set by both {seen[path]} and {p.name}")
            if fit_bases and path.endswith("." + BASE_RATE):
                raise InputError(f"--params {p.name}: base departure rates are fitted by ratio scaling; "
                                 "leave them out of --params or pass --no-fit-bases")
            seen[path] = p.name


def _sampler(seed: int, number: int):
    import optuna
    return optuna.samplers.TPESampler(seed=(int(seed) * 1_000_003 + int(number)) % (2 ** 32), n_startup_trials=12,
                                      multivariate=True, constant_liar=True)


def _run_study(study, params: list[Param], trials: int, batch: int, seed: int, setup: Setup,
               bases: dict[str, float], ratio_steps: int, client, log) -> None:
    """Ask, evaluate, tell in deterministic batches of trial numbers [b*batch, (b+1)*batch)."""
    import optuna
    from optuna.trial import TrialState

    dists = {p.name: _distribution(p) for p in params}
    setup_ref = client.scatter(setup, broadcast=True) if client is not None else setup
    n_batches = math.ceil(trials / batch) if trials else 0
    for b in range(n_batches):
        numbers = range(b * batch, min((b + 1) * batch, trials))
        existing = {t.number: t for t in study.get_trials(deepcopy=False)}
        if all(n in existing and existing[n].state.is_finished() for n in numbers):
            continue
        pending = []
        for n in numbers:
            t = existing.get(n)
            if t is not None and t.state.is_finished():
                continue
            if t is not None and t.state == TrialState.RUNNING:
                values = {p.name: t.params[p.name] for p in params if p.name in t.params}
                if len(values) != len(params):      # interrupted while suggesting: fail it, deterministically
                    study.tell(n, state=TrialState.FAIL, skip_if_finished=True)
                    raise InputError(f"trial {n} was interrupted before its parameters were stored; "
                                     "it is marked failed: run the command again to continue")
                pending.append((n, values))
                continue
            if t is not None and t.state != TrialState.WAITING:
                continue
            study.sampler = _sampler(seed, n)
            trial = study.ask(dists)
            if trial.number != n:
                raise InputError(f"{JOURNAL}: expected trial {n}, got {trial.number}; the journal was changed "
                                 "outside this command")
            pending.append((n, {p.name: trial.params[p.name] for p in params}))
        log(f"trials {numbers.start}-{numbers.stop - 1} of {trials}: evaluating {len(pending)}")
        tasks = [(n, overrides_for(params, v)) for n, v in pending]
        if client is not None:
            futures = [client.submit(in_worker, evaluate, setup_ref, ov, bases, ratio_steps, pure=False,
                                     key=f"trial-{n}-{_sha(ov)[:8]}")
                       for n, ov in tasks]
            results = []
            for f in futures:
                try:
                    results.append(f.result())
                except Exception as err:  # noqa: BLE001 - a failed run fails its trial, not the study
                    results.append(err)
        else:
            results = []
            for _, ov in tasks:
                try:
                    results.append(evaluate(setup_ref, ov, bases, ratio_steps))
                except InputError:
                    raise
                except Exception as err:  # noqa: BLE001
                    results.append(err)
        for (n, _), r in zip(pending, results):
            if isinstance(r, Exception):
                study._storage.set_trial_user_attr(_trial_id(study, n), "error", f"{type(r).__name__}: {r}"[:500])
                study.tell(n, state=TrialState.FAIL, skip_if_finished=True)
                log(f"trial {n} failed: {type(r).__name__}: {r}")
                continue
            tid = _trial_id(study, n)
            study._storage.set_trial_user_attr(tid, "terms", r["terms"])
            study._storage.set_trial_user_attr(tid, "bases", r["bases"])
            for key, detail in r["details"].items():
                study._storage.set_trial_user_attr(tid, key, detail)
            study._storage.set_trial_user_attr(tid, "seconds", r["seconds"])
            study.tell(n, r["objective"], skip_if_finished=True)
        done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
        if done:
            best = min(done, key=lambda t: (t.value, t.number))
            log(f"  best so far: trial {best.number}, objective {best.value:.3f}")


def _trial_id(study, number: int) -> int:
    return study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)


def _distribution(p: Param):
    from optuna.distributions import FloatDistribution, IntDistribution
    if p.integer:
        return IntDistribution(int(p.low), int(p.high))
    return FloatDistribution(p.low, p.high, log=p.log)


def _dask_client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as err:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    # Workers get one Numba thread through `env`; this process's environment is left alone, because Numba
    # refuses to compile once its thread pool is up if NUMBA_NUM_THREADS has changed since.
    cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"})
    return Client(cluster), cluster


def _call(client, fn, *args):
    if client is None:
        return fn(*args)
    return client.submit(in_worker, fn, *args, pure=False).result()


# Settings recorded but not required to match on resume: the scenario is compared by content (scenario_sha).
INFORMATIVE = ("scenario", "observed")


def _masked_sha(raw: dict, params: list[Param], bases_of: list[str]) -> str:
    """A fingerprint of the scenario without the values being fitted: writing the fitted values back into the
    scenario (its new defaults) leaves it the same study, which a rerun of the command resumes."""
    from ...scenario import apply_overrides
    masked = apply_overrides(raw, {**{path: None for p in params for path in p.paths},
                                   **{f"nationalities.{n}.{BASE_RATE}": None for n in bases_of}}, source="calibration")
    return _sha(_without_prose(masked))


def _without_prose(x):
    """The scenario's numbers and structure without its provenance text (sources, notes, description)."""
    if isinstance(x, dict):
        return {k: _without_prose(v) for k, v in x.items() if k not in ("source", "notes", "description")}
    if isinstance(x, list):
        return [_without_prose(v) for v in x]
    return x


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
