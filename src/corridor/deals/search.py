"""The search for deals: optuna's NSGA-II on a journal, each generation evaluated on dask, told in trial order.

    from corridor.deals import DealSearch
    s = DealSearch("status-quo", budget=200, scale=100, runs=2, seed=1)
    s.run(out="runs/deals", workers=1)          # or client="tcp://host:8786"

Deterministic for a seed whatever the number of workers: trials are asked a whole generation at a time, the
sampler of trial n is an NSGA-II sampler seeded by (seed, n), every run of every deal is a pure function of
its deal, seed and parameter draw, and results are told in trial order. Resumable: the study is a journal
file in DIR; a rerun with the same settings keeps the trials told, evaluates the trials asked but not told
with their stored levers (reading any deal already written whole), and goes on to `budget`.

DIR holds at every moment only whole files (each written to a temporary name and renamed):
    study.journal               the optuna study (what a rerun resumes)
    deals.json                  the settings (a rerun with other settings is refused), the space, the draws
    deals/deal=<name>.parquet   one evaluated deal: a row per run (seed, parameters, levers, objectives)
    deals.parquet               every evaluated deal's robust scores (one row a deal)
    front.csv, objectives.json, convergence.csv, report.html   rewritten after each generation
"""
from __future__ import annotations

import hashlib
import json
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import __version__
from ..batch.runs import RunsFailed, dask_client, execute, prepare_scenario
from ..errors import InputError
from ..results import atomic_write, engine_fingerprint, write_json
from .objectives import BY_NAME, MODES, OBJECTIVES, SIDES, parse_period, personnel, shelter_places
from .scoring import STATISTIC_TEXT, noise, score, within_noise
from .draws import default_uncertain, draw, given_uncertain
from .evaluate import DealRun, evaluate_run
from .space import BRANCH_DEFAULT, CROSSINGS, build_space, deal_overrides, narrow, parse_branch, value_on

STATUS_QUO = "status-quo"
JOURNAL = "study.journal"
STUDY = "corridor-deals"
POPULATION_DEFAULT = 16


def parse_constraint(text: str) -> tuple[str, str, float]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.:\- ]+?)\s*(<=|>=)\s*([-+0-9.eE]+)\s*", str(text))
    if not m:
        raise InputError(f"--constraint {text!r}: expected NAME<=VALUE or NAME>=VALUE, e.g. "
                         f"--constraint 'mexico_personnel<=40000' or --constraint 'policies.mexico_enforcement>=1'")
    try:
        value = float(m.group(3))
    except ValueError:
        raise InputError(f"--constraint {text!r}: {m.group(3)!r} is not a number") from None
    return m.group(1).strip(), m.group(2), value


class DealSearch:
    """A multi-objective search of deals on a scenario (see the module docstring)."""

    def __init__(self, scenario: str | Path = STATUS_QUO, budget: int = 100, branch: str = BRANCH_DEFAULT,
                 scale: float | None = None, runs: int = 2, seed: int | None = None,
                 overrides: list[str] | dict | None = None, levers: list[str] | None = None,
                 constraints: list[str] | None = None, period: str | None = None,
                 population: int = POPULATION_DEFAULT, vary: list[str] | dict | None = None,
                 retries: int = 2, runner: Callable | None = None):
        if int(budget) < 1:
            raise InputError(f"--budget {budget}: at least 1 deal")
        if int(runs) < 1:
            raise InputError(f"--runs {runs}: at least 1 run per deal")
        if int(population) < 2:
            raise InputError(f"--population {population}: at least 2 deals a generation")
        if scale is not None and not float(scale) >= 1:
            raise InputError(f"--scale {scale}: must be 1 or more (people per agent)")
        self.scenario_arg = str(scenario)
        self.budget, self.runs, self.population = int(budget), int(runs), int(population)
        self.retries, self.runner = int(retries), runner
        self.raw, self.sc = prepare_scenario(scenario, overrides)
        self.overrides = overrides
        self.branch = parse_branch(branch, self.sc)
        self.period = parse_period(period, self.branch, self.sc.end)
        if self.period[1] > self.sc.end:
            raise InputError(f"--period: ends {self.period[1]}, after the scenario's end {self.sc.end}")
        if self.sc.end > self.period[1]:      # nothing after the period is measured: stop the runs there
            self.raw = {**self.raw, "end": self.period[1].isoformat()}
        self.seed = int(seed) if seed is not None else int(self.sc.seed)
        if self.seed < 0:
            raise InputError(f"--seed {seed}: must be 0 or more")
        self.scale = float(scale) if scale is not None else None
        self.dims = build_space(self.sc, levers, self.branch)
        self.objectives = list(OBJECTIVES)
        self.names = [o.name for o in self.objectives]
        self.base_personnel = value_on(self.sc.policies.mexico_personnel, self.branch, 0.0)
        self.constraints: list[tuple[str, str, float]] = []
        for text in constraints or ():
            self._add_constraint(*parse_constraint(text))
        self.uncertain = given_uncertain(self.raw, vary) if vary else default_uncertain(self.raw)
        self.draws = [draw(self.seed, k, self.uncertain) for k in range(self.runs)]
        self.places = shelter_places(self.sc)
        self._blob = zlib.compress(pickle.dumps(self.raw, protocol=pickle.HIGHEST_PROTOCOL), 6)
        self.identity = self._identity()
        self.status_quo: dict | None = None
        self.deals: dict[str, dict] = {}
        self.out: Path | None = None
        self.executed_runs = 0

    # ------------------------------------------------------------------------------------------ settings
    def _add_constraint(self, name: str, op: str, value: float) -> None:
        lever = name[len("lever:"):] if name.startswith("lever:") else name
        if lever in {d.name for d in self.dims}:
            self.dims = narrow(self.dims, lever, op, value)
            self.constraints.append((f"lever:{lever}", op, value))
            return
        objective = name[len("objective:"):] if name.startswith("objective:") else name
        if objective not in self.names:
            raise InputError(f"--constraint {name}{op}{value:g}: unknown name {name!r}; valid: an objective "
                             f"({', '.join(self.names)}) or a searched lever ({', '.join(d.name for d in self.dims)})")
        if op == "<=" and value < 0:
            raise InputError(f"--constraint {name}{op}{value:g}: infeasible, {objective} is never below 0")
        if objective == "mexico_personnel":
            lo_dims = {d.name: (d.low if op == "<=" else d.high) for d in self.dims}
            best = self._personnel(lo_dims)
            if (op == "<=" and best > value) or (op == ">=" and best < value):
                raise InputError(f"--constraint {name}{op}{value:g}: infeasible, over their ranges the searched levers need "
                                 f"{'at least' if op == '<=' else 'at most'} {best:,.0f} personnel between them "
                                 f"({BY_NAME['mexico_personnel'].meaning})")
        self.constraints.append((objective, op, value))

    def _levels(self, values: dict[str, float]) -> dict[str, float]:
        """Enforcement, contention per mode and the Guatemala block on the branch date under a deal."""
        pol = self.sc.policies
        lv = {"enforcement": value_on(pol.mexico_enforcement, self.branch, 1.0),
              "guatemala_border_block": value_on(pol.guatemala_border_block, self.branch, 0.0)}
        for m in MODES:
            lv[f"contention.{m}"] = value_on(pol.contention.get(m, 0.0), self.branch, 0.0)
        names = {"policies.mexico_enforcement": "enforcement", "policies.guatemala_border_block": "guatemala_border_block",
                 **{f"policies.contention.{m}": f"contention.{m}" for m in MODES}}
        for d in self.dims:
            for path in d.paths:
                if path in names and d.name in values:
                    lv[names[path]] = float(values[d.name])
        return lv

    def _personnel(self, values: dict[str, float]) -> float:
        return personnel(self._levels(values), self.base_personnel or 0.0)

    def _identity(self) -> str:
        blob = json.dumps({"raw": hashlib.sha256(self._blob).hexdigest(), "branch": str(self.branch),
                           "period": [str(p) for p in self.period], "scale": self.scale, "runs": self.runs,
                           "seed": self.seed, "population": self.population,
                           "space": [(d.name, d.paths, d.low, d.high, d.integer) for d in self.dims],
                           "constraints": self.constraints, "uncertain": [vars(u) for u in self.uncertain],
                           "version": __version__, "engine": engine_fingerprint()}, default=str, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def settings(self) -> dict:
        return {"scenario": self.sc.name, "scenario_arg": self.scenario_arg, "overrides": self.overrides,
                "branch": str(self.branch), "period": [str(p) for p in self.period], "scale": self.scale,
                "runs": self.runs, "seed": self.seed, "population": self.population, "budget": self.budget,
                "statistic": STATISTIC_TEXT, "identity": self.identity, "version": __version__,
                "engine": engine_fingerprint(), "base_personnel": self.base_personnel,
                "space": [{"name": d.name, "paths": list(d.paths), "low": d.low, "high": d.high,
                           "integer": d.integer, "side": d.lever.side, "phases": list(d.lever.phases),
                           "meaning": d.meaning} for d in self.dims],
                "constraints": [f"{n}{op}{v:g}" for n, op, v in self.constraints],
                "uncertain": [vars(u) for u in self.uncertain],
                "draws": [{"run": k, "seed": s, **p} for k, (s, p) in enumerate(self.draws)]}

    # ------------------------------------------------------------------------------------------ one deal
    def tasks(self, deal: str, values: dict[str, float] | None, first_index: int,
              draws: list[tuple[int, dict]] | None = None) -> list[DealRun]:
        """The runs of a deal (values None: the status quo, the scenario as it is)."""
        levers = deal_overrides(self.sc, self.dims, values, self.branch) if values is not None else {}
        out = []
        for k, (seed, params) in enumerate(draws or self.draws):
            ov = {**params, **levers}
            ident = hashlib.sha256(json.dumps([self.identity, deal, k, ov], default=str, sort_keys=True)
                                   .encode()).hexdigest()
            out.append(DealRun(first_index + k, deal, k, seed, ov, self._blob, self.scale,
                               (str(self.period[0]), str(self.period[1])), self.places, ident,
                               code=engine_fingerprint(), branch=str(self.branch)))
        return out

    def record(self, deal: str, values: dict[str, float] | None, results: list[dict]) -> dict:
        """A deal's per-run table and robust scores from its runs' results (in run order)."""
        lever_values = values if values is not None else self.status_quo_levers()
        personnel = self._personnel(lever_values)
        ordered = sorted(results, key=lambda r: r["run"])
        per_run = [{**r["figures"], "mexico_personnel": personnel} for r in ordered]
        rows = pd.DataFrame([{"deal": deal, "run": r["run"], "seed": r["seed"],
                              **{f"param:{k}": v for k, v in self.draws[r["run"]][1].items()},
                              **{d.column: lever_values[d.name] for d in self.dims},
                              **{f"objective:{n}": fig[n] for n in self.names}}
                             for r, fig in zip(ordered, per_run)])
        return {"deal": deal, "levers": lever_values, "per_run": per_run, "rows": rows,
                "scores": score(per_run, self.names)}

    def status_quo_levers(self) -> dict[str, float]:
        """Each dimension's value on the branch date in the base scenario (the crossings: 1 if all closed)."""
        out = {}
        from .space import current_value
        for d in self.dims:
            vals = [value_on(current_value(self.sc, d.lever, p), self.branch, d.lever.neutral) for p in d.paths]
            out[d.name] = float(min(vals)) if d.name == CROSSINGS else float(np.mean(vals))
        return out

    def write_deal(self, rec: dict) -> None:
        path = self.out / "deals" / f"deal={rec['deal']}.parquet"
        atomic_write(path, lambda p: rec["rows"].to_parquet(p, index=False))

    def read_deal(self, deal: str, values: dict | None) -> dict | None:
        path = self.out / "deals" / f"deal={deal}.parquet"
        if not path.is_file():
            return None
        rows = pd.read_parquet(path)
        if len(rows) != self.runs:
            return None
        results = [{"run": int(r["run"]), "seed": int(r["seed"]),
                    "figures": {n: float(r[f"objective:{n}"]) for n in self.names}} for _, r in rows.iterrows()]
        return self.record(deal, values, results)

    # ------------------------------------------------------------------------------------------ the search
    def run(self, out: str | Path, client: Any = None, workers: int | None = None,
            log: Callable[[str], None] = lambda s: None, report: bool = True) -> "DealSearch":
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
        from optuna.trial import TrialState
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        manifest = self.out / "deals.json"
        if manifest.is_file():
            old = json.loads(manifest.read_text())
            if old.get("identity") != self.identity:
                raise InputError(f"{self.out} holds a search made with other settings (scenario, --set, --lever, "
                                 f"--constraint, --branch, --period, --scale, --runs, --seed, --population or the "
                                 f"engine); give another --out, or delete {self.out} to start over")
        elif (self.out / JOURNAL).exists():
            raise InputError(f"{self.out}/{JOURNAL} exists without deals.json; delete {self.out} to start over")
        write_json(manifest, self.settings())
        for tmp in list(self.out.glob(".*.tmp")) + list((self.out / "deals").glob(".*.tmp")):
            tmp.unlink(missing_ok=True)
        storage = JournalStorage(JournalFileBackend(str(self.out / JOURNAL)))
        study = optuna.create_study(study_name=STUDY, storage=storage, directions=["minimize"] * len(self.names),
                                    load_if_exists=True, sampler=self._sampler(0))
        dists = self._distributions()
        with dask_client(client, workers or 1) as c:
            self.status_quo = self.read_deal(STATUS_QUO, None) or self._evaluate([(STATUS_QUO, None)], c, log)[0]
            self.sq_noise = noise(self.status_quo["per_run"], self.names)
            for t in study.get_trials(deepcopy=False):
                if t.state == TrialState.COMPLETE:
                    rec = self.read_deal(_name(t.number), _values(t.params, self.dims))
                    if rec is None:
                        raise InputError(f"{self.out}/deals/deal={_name(t.number)}.parquet is missing although the "
                                         f"journal holds its trial; delete {self.out} to start over")
                    self.deals[rec["deal"]] = {**rec, "trial": t.number, "generation": t.number // self.population}
            done = len(self.deals)
            if done and report:
                self.write_outputs()
            while done < self.budget:
                numbers = range(done, min(done - done % self.population + self.population, self.budget))
                trials = {t.number: t for t in study.get_trials(deepcopy=False)}
                pending = []
                for n in numbers:
                    t = trials.get(n)
                    if t is not None and t.state == TrialState.COMPLETE:
                        continue
                    if t is None:
                        study.sampler = self._sampler(n)
                        asked = study.ask(dists)
                        if asked.number != n:
                            raise InputError(f"{self.out}/{JOURNAL}: expected trial {n}, got {asked.number}; the "
                                             f"journal was changed outside this command")
                        params = asked.params
                    else:
                        params = t.params
                    pending.append((n, _values(params, self.dims)))
                log(f"generation {numbers.start // self.population}: deals {numbers.start}-{numbers.stop - 1} "
                    f"of {self.budget}")
                todo = []
                for n, values in pending:
                    rec = self.read_deal(_name(n), values)
                    if rec is None:
                        todo.append((_name(n), values))
                    else:
                        self.deals[_name(n)] = {**rec, "trial": n, "generation": n // self.population}
                for rec in self._evaluate(todo, c, log):
                    n = int(rec["deal"].split("-")[1])
                    self.deals[rec["deal"]] = {**rec, "trial": n, "generation": n // self.population}
                for n, _ in pending:            # told in trial order
                    rec = self.deals[_name(n)]
                    tid = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, n)
                    study._storage.set_trial_user_attr(tid, "constraints", self._violations(rec["scores"]))
                    study.sampler = self._sampler(n)
                    study.tell(n, [rec["scores"][k] for k in self.names], skip_if_finished=True)
                done = numbers.stop
                if report:
                    self.write_outputs()
        return self

    def _evaluate(self, deals: list[tuple[str, dict | None]], client, log) -> list[dict]:
        """Run every run of the deals on dask; write each deal whole once all its runs are in."""
        specs = []
        for i, (name, values) in enumerate(deals):
            specs += self.tasks(name, values, i * self.runs)
        if not specs:
            return []
        results, failures = execute(specs, client, None, self.retries, self.runner or evaluate_run)
        self.executed_runs += len(results)
        out = []
        for i, (name, values) in enumerate(deals):
            mine = [results.get(i * self.runs + k) for k in range(self.runs)]
            if any(r is None for r in mine):
                continue
            rec = self.record(name, values, mine)
            self.write_deal(rec)
            out.append(rec)
        if failures:
            raise RunsFailed(failures, len(specs), self.out)
        return out

    def _violations(self, scores: dict[str, float]) -> list[float]:
        """optuna's constraint values (<= 0 feasible) of the objective constraints."""
        out = []
        for name, op, v in self.constraints:
            if name.startswith("lever:"):
                continue
            out.append(scores[name] - v if op == "<=" else v - scores[name])
        return out

    def _sampler(self, n: int):
        from optuna.samplers import NSGAIISampler
        seed = int.from_bytes(hashlib.blake2b(f"deals:{self.seed}:{n}".encode(), digest_size=4).digest(), "little")
        constrained = any(not n.startswith("lever:") for n, _, _ in self.constraints)
        return NSGAIISampler(population_size=self.population, seed=seed,
                             constraints_func=(lambda t: t.user_attrs.get("constraints", [])) if constrained else None)

    def _distributions(self) -> dict:
        from optuna.distributions import FloatDistribution, IntDistribution
        return {d.name: (IntDistribution(int(d.low), int(d.high)) if d.integer else FloatDistribution(d.low, d.high))
                for d in self.dims}

    # ------------------------------------------------------------------------------------------ outputs
    def table(self) -> pd.DataFrame:
        """Every evaluated deal, one row each: deal, trial, generation, levers, robust objectives, verdicts."""
        sq = self.status_quo["scores"]
        rows = []
        for name, rec in sorted(self.deals.items(), key=lambda kv: kv[1]["trial"]):
            s = rec["scores"]
            feasible = all(v <= 0 for v in self._violations(s))
            rows.append({"deal": name, "trial": rec["trial"], "generation": rec["generation"],
                         **{d.column: rec["levers"][d.name] for d in self.dims},
                         **{f"objective:{n}": s[n] for n in self.names}, "feasible": feasible,
                         "within_noise": ",".join(within_noise(s, sq, self.sq_noise)),
                         **{f"better_for_{side}": self.beats(s, side) for side in SIDES}})
        return pd.DataFrame(rows)

    def beats(self, scores: dict[str, float], side: str) -> bool:
        """Better than the status quo for a side: no objective of the side worse by more than the noise, one
        better by more than the noise."""
        sq, nz = self.status_quo["scores"], self.sq_noise
        mine = [o.name for o in self.objectives if o.side == side]
        return (all(scores[n] <= sq[n] + nz[n] for n in mine) and any(scores[n] < sq[n] - nz[n] for n in mine))

    def front(self) -> pd.DataFrame:
        """The feasible deals no other feasible deal dominates, then the status quo for reference."""
        from .front import nondominated
        t = self.table()
        cols = [f"objective:{n}" for n in self.names]
        if len(t):
            feas = t[t["feasible"]].reset_index(drop=True)
            t = feas[nondominated(feas[cols].to_numpy(dtype=float))] if len(feas) else feas
        sq = self.status_quo
        sq_row = {"deal": STATUS_QUO, "trial": -1, "generation": -1,
                  **{d.column: sq["levers"][d.name] for d in self.dims},
                  **{f"objective:{n}": sq["scores"][n] for n in self.names}, "feasible": True, "within_noise": "",
                  **{f"better_for_{side}": False for side in SIDES}}
        return pd.concat([t, pd.DataFrame([sq_row])], ignore_index=True)

    def convergence(self) -> pd.DataFrame:
        from .front import hypervolume_curve
        t = self.table()
        if not len(t):
            return pd.DataFrame(columns=["generation", "deals", "hypervolume"])
        t = t[t["feasible"]]
        cols = [f"objective:{n}" for n in self.names]
        sq = np.array([self.status_quo["scores"][n] for n in self.names])
        return pd.DataFrame(hypervolume_curve(t[cols].to_numpy(dtype=float), t["generation"].to_numpy(), sq))

    def write_outputs(self) -> None:
        out = self.out
        table, front, conv = self.table(), self.front(), self.convergence()
        atomic_write(out / "deals.parquet", lambda p: table.to_parquet(p, index=False))
        atomic_write(out / "front.csv", front.to_csv(index=False))
        atomic_write(out / "convergence.csv", conv.to_csv(index=False))
        write_json(out / "objectives.json", {o.name: {"direction": o.direction, "side": o.side, "unit": o.unit,
                                                      "meaning": o.meaning} for o in self.objectives})
        from .report import write_report
        write_report(self, table, front, conv)


def _name(n: int) -> str:
    return f"deal-{n:04d}"


def _values(params: dict, dims) -> dict[str, float]:
    return {d.name: float(params[d.name]) for d in dims}
